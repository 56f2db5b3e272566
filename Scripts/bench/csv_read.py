"""The peers of the CSV reader benchmark: pandas.read_csv (C engine) and Python's csv module with the
numeric columns converted to float. Prints one line per peer: name, rows, seconds."""
import csv
import sys
import time

import pandas as pd

path = sys.argv[1]
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3


def best(f):
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        n = f()
        times.append(time.perf_counter() - t)
    times.sort()
    return n, times[len(times) // 2]


def pandas_read():
    return len(pd.read_csv(path, engine="c"))


def csv_module():
    with open(path, newline="", encoding="utf-8") as f:
        r = csv.reader(f)
        next(r)
        numeric = None
        n = 0
        total = 0.0
        for row in r:
            if numeric is None:
                numeric = []
                for i, v in enumerate(row):
                    try:
                        float(v)
                        numeric.append(i)
                    except ValueError:
                        pass
            for i in numeric:
                total += float(row[i])
            n += 1
        return n


for name, f in [("pandas.read_csv", pandas_read), ("python csv", csv_module)]:
    n, s = best(f)
    print(f"{name}|{n}|{s:.3f}")
