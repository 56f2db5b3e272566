"""The implicit library's side of the recommender benchmark: loads the same CSV, builds the same
user × item matrix (duplicates summed), trains AlternatingLeastSquares with the same factors, iterations
and thread count, times each iteration, then times batched recommend for all users.
Prints `key value` lines. Usage: implicit_peer.py CSV FACTORS ITERATIONS THREADS [ALPHA] [REG]"""
import os
import resource
import sys
import time

PROCESS_START = time.perf_counter()

path, factors, iterations, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
alpha = float(sys.argv[5]) if len(sys.argv) > 5 else 1.0
reg = float(sys.argv[6]) if len(sys.argv) > 6 else 0.01
os.environ["OPENBLAS_NUM_THREADS"] = "1"

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import scipy.sparse as sp  # noqa: E402
from implicit.cpu.als import AlternatingLeastSquares  # noqa: E402

df = pd.read_csv(path, dtype={"user_id": str, "item_id": str})
users = df["user_id"].astype("category")
items = df["item_id"].astype("category")
values = df["count"].to_numpy(dtype=np.float32) if "count" in df.columns else np.ones(len(df), np.float32)
matrix = sp.coo_matrix(
    (values, (users.cat.codes.to_numpy(), items.cat.codes.to_numpy())),
    shape=(len(users.cat.categories), len(items.cat.categories)),
).tocsr()
matrix.sum_duplicates()
times = []


class Timer:
    def __init__(self):
        self.last = None

    def __call__(self, iteration, elapsed, loss):
        times.append(elapsed)


model = AlternatingLeastSquares(
    factors=factors, iterations=iterations, num_threads=threads, alpha=alpha, regularization=reg,
    calculate_training_loss=False, random_state=42,
)
start = time.perf_counter()
model.fit(matrix, show_progress=False, callback=Timer())
fit = time.perf_counter() - start
print("users", matrix.shape[0])
print("items", matrix.shape[1])
print("nnz", matrix.nnz)
print("fit_seconds", f"{fit:.3f}")
print("seconds_per_iteration", f"{fit / iterations:.3f}")
if times:
    print("callback_seconds_per_iteration", f"{sum(times) / len(times):.3f}")
print("process_seconds_to_fit", f"{time.perf_counter() - PROCESS_START:.3f}")
if os.environ.get("FIT_ONLY"):
    sys.exit(0)
start = time.perf_counter()
ids, scores = model.recommend(np.arange(matrix.shape[0]), matrix, N=10, filter_already_liked_items=True)
print("batch_seconds", f"{time.perf_counter() - start:.3f}")
print("peak_rss_mb", f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")
