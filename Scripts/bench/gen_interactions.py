"""Synthetic implicit-feedback interactions with latent taste structure and power-law item popularity.

Each item belongs to one of T tastes and has a Zipf-like popularity within it; each user has a few
favourite tastes and draws most of their items from them (the rest from global popularity). Counts are
small positive integers. Deterministic for a seed. Usage:

    gen_interactions.py OUT USERS ITEMS INTERACTIONS [SEED]   (needs numpy)
"""
import sys

import numpy as np

out, users, items, total = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rng = np.random.default_rng(int(sys.argv[5]) if len(sys.argv) > 5 else 42)
tastes = 64
item_taste = rng.integers(0, tastes, size=items)
popularity = 1.0 / np.arange(1, items + 1) ** 0.9
rng.shuffle(popularity)
by_taste = [np.flatnonzero(item_taste == t) for t in range(tastes)]
taste_p = [popularity[ix] / popularity[ix].sum() for ix in by_taste]
global_p = popularity / popularity.sum()
# Interactions per user: heavy-tailed, at least 3.
per_user = rng.lognormal(mean=0.0, sigma=1.0, size=users)
per_user = np.maximum(3, np.round(per_user / per_user.sum() * total)).astype(np.int64)
user_tastes = rng.integers(0, tastes, size=(users, 3))
rows_u, rows_i = [], []
for u in range(users):
    n = int(per_user[u])
    from_taste = rng.random(n) < 0.8
    k = int(from_taste.sum())
    picks = np.empty(n, dtype=np.int64)
    choice = user_tastes[u, rng.integers(0, 3, size=k)]
    for t in np.unique(choice):
        m = int((choice == t).sum())
        picks[:k][choice == t] = rng.choice(by_taste[t], size=m, p=taste_p[t])
    picks[k:] = rng.choice(items, size=n - k, p=global_p)
    rows_u.append(np.full(n, u))
    rows_i.append(picks)
u_all = np.concatenate(rows_u)
i_all = np.concatenate(rows_i)
counts = 1 + rng.poisson(0.5, size=len(u_all))
with open(out, "w") as f:
    f.write("user_id,item_id,count\n")
    for start in range(0, len(u_all), 500_000):
        end = min(start + 500_000, len(u_all))
        f.write("".join(f"U{u},I{i},{c}\n" for u, i, c in zip(u_all[start:end], i_all[start:end], counts[start:end])))
