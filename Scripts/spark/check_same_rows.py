"""Exits 0 when two score outputs hold the same rows, order aside: CSV files or directories of Spark part files."""
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


expected, found = read(sys.argv[1]), read(sys.argv[2])
if list(expected.columns) != list(found.columns):
    sys.exit(f"columns differ: {list(expected.columns)} vs {list(found.columns)}")
key = list(expected.columns)
a = expected.sort_values(key).reset_index(drop=True)
b = found.sort_values(key).reset_index(drop=True)
if len(a) != len(b) or not a.equals(b):
    merged = a.merge(b, how="outer", indicator=True)
    sys.exit(f"{len(a)} vs {len(b)} rows; differing:\n{merged[merged['_merge'] != 'both'].head(10)}")
print(f"same {len(a)} rows")
