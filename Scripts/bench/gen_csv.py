"""Writes a deterministic N-row, 10-column CSV (ints, floats, short strings, timestamps, a few quoted
fields with commas) for the CSV reader benchmark. Usage: gen_csv.py OUT [ROWS] [SEED]"""
import random
import sys

out = sys.argv[1]
rows = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 7)
categories = ["books", "electronics", "garden", "toys", "grocery", "apparel", "sports", "beauty"]
countries = ["US", "DE", "FR", "GB", "JP", "BR", "IN", "ES"]
with open(out, "w", newline="") as f:
    f.write("order_id,customer,amount,quantity,unit_price,category,country,score,returned,created_at\n")
    for i in range(rows):
        q = rng.randint(1, 9)
        price = round(rng.lognormvariate(3, 1), 2)
        cat = rng.choice(categories)
        if rng.random() < 0.02:
            cat = '"' + cat + ', clearance"'
        secs = 1_522_540_800 + rng.randint(0, 90 * 86400)
        day, rem = divmod(secs - 1_522_540_800, 86400)
        f.write(
            f"{i},C-{rng.randint(1, 200000):06d},{q * price:.2f},{q},{price},{cat},{rng.choice(countries)},"
            f"{rng.random():.6f},{1 if rng.random() < 0.05 else 0},"
            f"2018-{4 + day // 30:02d}-{1 + day % 30:02d} {rem // 3600:02d}:{rem % 3600 // 60:02d}:{rem % 60:02d}\n"
        )
