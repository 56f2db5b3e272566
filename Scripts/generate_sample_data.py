"""Generates CommerceML's committed sample data, deterministically (Python's random with fixed seeds;
no third-party packages). Usage: python3 Scripts/generate_sample_data.py [SampleData]

  ecommerce/items.csv          item_id,title,category,price
  ecommerce/interactions.csv   user_id,item_id,quantity,timestamp   (strong taste structure: each user
                               buys mostly from two favourite categories, popular items more often)
"""
import os
import random
import sys

root = sys.argv[1] if len(sys.argv) > 1 else "SampleData"


def ecommerce(out):
    rng = random.Random(20261125)
    os.makedirs(out, exist_ok=True)
    categories = {
        "kitchen": ["Chef's Knife", "Cast Iron Skillet", "Espresso Cups", "Cutting Board", "Spice Rack", "Dutch Oven"],
        "garden": ["Pruning Shears", "Watering Can", "Seed Tray", "Garden Gloves", "Compost Bin", "Hose Reel"],
        "books": ["Mystery Novel", "Cookbook", "Travel Guide", "Poetry Collection", "History Atlas", "Sci-Fi Saga"],
        "toys": ["Wooden Puzzle", "Building Blocks", "Kite", "Board Game", "Plush Bear", "Train Set"],
        "outdoor": ["Trail Backpack", "Tent", "Headlamp", "Water Filter", "Sleeping Bag", "Camp Stove"],
        "office": ["Fountain Pen", "Desk Lamp", "Notebook", "Monitor Stand", "Paper Tray", "Stapler"],
        "fitness": ["Yoga Mat", "Kettlebell", "Jump Rope", "Foam Roller", "Resistance Bands", "Dumbbells"],
        "audio": ["Headphones", "Bluetooth Speaker", "Turntable", "Microphone", "Earbuds", "Soundbar"],
    }
    styles = ["Classic", "Compact", "Deluxe", "Eco", "Pro", "Vintage", "Travel", "Family"]
    names = list(categories)
    items = []
    for c in names:
        for base in categories[c]:
            for style in rng.sample(styles, 5):
                items.append((f"{style} {base}", c))
    rng.shuffle(items)
    with open(f"{out}/items.csv", "w") as f:
        f.write("item_id,title,category,price\n")
        ids = []
        for k, (title, c) in enumerate(items):
            item_id = f"P-{k + 1:04d}"
            ids.append((item_id, c))
            price = round(rng.lognormvariate(3.2, 0.7), 2)
            f.write(f'{item_id},"{title}",{c},{price:.2f}\n')
    weight = {item_id: 1.0 / (rank + 1) ** 0.6 for rank, (item_id, _) in enumerate(rng.sample(ids, len(ids)))}
    by_category = {c: [i for i, ic in ids if ic == c] for c in names}
    rows = []
    start = 1_764_547_200  # 2025-12-01
    for u in range(1, 801):
        favourite = rng.sample(names, 2)
        n = rng.randint(8, 40)
        chosen = set()
        while len(chosen) < n:
            if rng.random() < 0.85:
                pool = by_category[rng.choice(favourite)]
            else:
                pool = [i for i, _ in ids]
            chosen.add(rng.choices(pool, weights=[weight[i] for i in pool])[0])
        for item_id in sorted(chosen):
            t = start + rng.randint(0, 90 * 86400)
            rows.append((t, f"U-{u:04d}", item_id, rng.choice([1, 1, 1, 1, 2, 2, 3])))
    rows.sort()
    with open(f"{out}/interactions.csv", "w") as f:
        f.write("user_id,item_id,quantity,timestamp\n")
        for t, user, item, q in rows:
            d, s = divmod(t - 1_764_547_200, 86400)
            month, day = (12, 1 + d) if d < 31 else ((1, d - 30) if d < 62 else (2, d - 61))
            year = 2025 if month == 12 else 2026
            f.write(f"{user},{item},{q},{year}-{month:02d}-{day:02d}T{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}Z\n")


ecommerce(os.path.join(root, "ecommerce"))
