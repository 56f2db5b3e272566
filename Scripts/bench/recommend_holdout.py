"""A fixed per-user holdout and its NDCG@10, for Scripts/bench/recommend_holdout.sh.

  recommend_holdout.py split DATA OUTDIR [SEED]   OUTDIR/train.csv and OUTDIR/test.csv: each user's interactions
                                                 shuffled (numpy, SEED, default 2026) and 20% held out
  recommend_holdout.py ndcg TEST BATCH            NDCG@10 (binary relevance, every held-out interaction relevant)
                                                 of `recommend batch --all -n 10` output BATCH, over test users
"""
import sys

import numpy as np
import pandas as pd


def split(data, out, seed=2026):
    df = pd.read_csv(data)
    user, item = df.columns[0], df.columns[1]
    rng = np.random.default_rng(seed)
    test_mask = np.zeros(len(df), dtype=bool)
    for _, idx in df.groupby(user).indices.items():
        idx = np.array(idx)
        rng.shuffle(idx)
        n_test = int(round(0.2 * len(idx)))
        test_mask[idx[:n_test]] = True
    df[~test_mask].to_csv(f"{out}/train.csv", index=False)
    df[test_mask].to_csv(f"{out}/test.csv", index=False)


def ndcg(test, batch):
    t = pd.read_csv(test)
    user, item = t.columns[0], t.columns[1]
    relevant = t.groupby(user)[item].apply(lambda s: set(map(str, s))).to_dict()
    b = pd.read_csv(batch, dtype=str)
    ranked = b.sort_values(["user_id", "rank"], key=lambda c: c.astype(int) if c.name == "rank" else c)
    lists = ranked.groupby("user_id")["item_id"].apply(list).to_dict()
    discounts = 1 / np.log2(np.arange(2, 12))
    scores = []
    for u, rel in relevant.items():
        recs = lists.get(str(u), [])[:10]
        dcg = sum(discounts[k] for k, i in enumerate(recs) if i in rel)
        idcg = discounts[: min(len(rel), 10)].sum()
        scores.append(dcg / idcg)
    print(f"ndcg@10 {np.mean(scores):.4f} users {len(scores)}")


if __name__ == "__main__":
    if sys.argv[1] == "split":
        split(sys.argv[2], sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else 2026)
    else:
        ndcg(sys.argv[2], sys.argv[3])
