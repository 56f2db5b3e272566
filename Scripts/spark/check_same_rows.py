"""Exits 0 when two score outputs hold the same rows, order aside: CSV files or directories of Spark part files.

Text columns must be equal; number columns (every value a number, some with a fraction) agree within a tolerance
(1e-6 absolute plus 1e-5 relative): a block of users scored by one BLAS call rounds the last printed digit
differently from the same users in another block. For a ranking (a `rank` column, as `recommend batch` writes), each
user's items must be the same set with close scores at every rank; two items may trade places only where their
scores tie within the tolerance.
"""
import glob
import os
import sys

import pandas as pd


def read(path):
    if os.path.isdir(path):
        files = sorted(glob.glob(os.path.join(path, "part-*")))
        parquet = [f for f in files if f.endswith(".parquet")]
        if parquet:
            return pd.concat([pd.read_parquet(f) for f in parquet]).astype(str)
        return pd.concat([pd.read_csv(f, dtype=str, keep_default_na=False) for f in files])
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def is_number(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


def close(x, y):
    return abs(x - y) <= 1e-6 + 1e-5 * abs(y)


def number_columns(frames, columns):
    return [
        c
        for c in columns
        if all(f[c].map(is_number).all() for f in frames)
        and any(f[c].str.contains(r"[.eE]", regex=True).any() for f in frames)
    ]


def fail(message):
    sys.exit(message)


expected, found = read(sys.argv[1]), read(sys.argv[2])
columns = list(expected.columns)
if columns != list(found.columns):
    fail(f"columns differ: {columns} vs {list(found.columns)}")
if len(expected) != len(found):
    fail(f"{len(expected)} vs {len(found)} rows")
numbers = number_columns([expected, found], columns)
texts = [c for c in columns if c not in numbers]

if "rank" in columns and "item_id" in columns and "score" in numbers:
    user, others = columns[0], [c for c in texts if c not in (columns[0], "rank", "item_id")]
    a_groups = dict(tuple(expected.groupby(user)))
    b_groups = dict(tuple(found.groupby(user)))
    if set(a_groups) != set(b_groups):
        fail(f"users differ: {sorted(set(a_groups) ^ set(b_groups))[:10]}")
    for u, a in a_groups.items():
        a = a.assign(r=a["rank"].astype(int)).sort_values("r").reset_index(drop=True)
        b = b_groups[u].assign(r=b_groups[u]["rank"].astype(int)).sort_values("r").reset_index(drop=True)
        if list(a["r"]) != list(b["r"]) or set(a["item_id"]) != set(b["item_id"]):
            fail(f"user {u}: items differ\n{a}\n{b}")
        a_score = dict(zip(a["item_id"], a["score"].astype(float)))
        b_score = dict(zip(b["item_id"], b["score"].astype(float)))
        for i in range(len(a)):
            x, y = a.loc[i], b.loc[i]
            if not close(float(x["score"]), float(y["score"])):
                fail(f"user {u} rank {x['r']}: score {x['score']} vs {y['score']}")
            if x["item_id"] != y["item_id"] and not (
                close(a_score[x["item_id"]], a_score[y["item_id"]]) and close(b_score[x["item_id"]], b_score[y["item_id"]])
            ):
                fail(f"user {u} rank {x['r']}: {x['item_id']} vs {y['item_id']}, whose scores do not tie")
        for c in others:
            if dict(zip(a["item_id"], a[c])) != dict(zip(b["item_id"], b[c])):
                fail(f"user {u}: column {c} differs")
else:
    a = expected.sort_values(texts).reset_index(drop=True)
    b = found.sort_values(texts).reset_index(drop=True)
    if not a[texts].equals(b[texts]):
        merged = a[texts].merge(b[texts], how="outer", indicator=True)
        fail(f"differing rows:\n{merged[merged['_merge'] != 'both'].head(10)}")
    for c in numbers:
        for i, (x, y) in enumerate(zip(a[c].astype(float), b[c].astype(float))):
            if not close(x, y):
                fail(f"row {i} ({dict(a.loc[i, texts])}): {c} {x} vs {y}")
print(f"same {len(expected)} rows (text columns equal, {', '.join(numbers) or 'no number columns'} within 1e-6 + 1e-5 relative)")
