"""The implicit library's side of the recommender benchmark: loads the same CSV, builds the same
user × item matrix (duplicates summed), trains AlternatingLeastSquares with the same factors, iterations
and thread count, times each iteration, then times batched recommend for all users.

With NIGHTLY_DIR set, it also saves what a nightly job needs (the factors, the user × item matrix and the ids, in
numpy's own formats) into that directory. `implicit_peer.py --nightly DIR N THREADS` is then that job, in a process
of its own: load the saved model and matrix, recommend the top N for every user with seen items filtered, write
user_id,rank,item_id,score,source as CSV (the layout of `recommend batch`) to DIR/topN.csv; it prints
`nightly_process_seconds` (from the script's start; the bench times the whole process too).
Prints `key value` lines. Usage: implicit_peer.py CSV FACTORS ITERATIONS THREADS [ALPHA] [REG]"""
import os
import resource
import sys
import time

PROCESS_START = time.perf_counter()


def nightly_job(directory, n, threads):
    """Loads the saved factors, matrix and ids, recommends the top n for every user with seen items filtered,
    writes the CSV; returns the seconds since the process started."""
    import numpy as np
    import pandas as pd
    import scipy.sparse as sp
    from implicit.cpu.als import AlternatingLeastSquares

    model = AlternatingLeastSquares(factors=1, num_threads=threads, random_state=42)
    model.user_factors = np.load(os.path.join(directory, "user_factors.npy"))
    model.item_factors = np.load(os.path.join(directory, "item_factors.npy"))
    user_items = sp.load_npz(os.path.join(directory, "user_items.npz")).tocsr()
    user_ids = np.load(os.path.join(directory, "user_ids.npy"))
    item_ids = np.load(os.path.join(directory, "item_ids.npy"))
    ids, scores = model.recommend(np.arange(user_items.shape[0]), user_items, N=n, filter_already_liked_items=True)
    out = pd.DataFrame({
        "user_id": np.repeat(user_ids, n),
        "rank": np.tile(np.arange(1, n + 1), len(user_ids)),
        "item_id": item_ids[ids.ravel()],
        "score": scores.ravel(),
        "source": "model",
    })
    out.to_csv(os.path.join(directory, "top%d.csv" % n), index=False, float_format="%.6f")
    return time.perf_counter() - PROCESS_START


if len(sys.argv) > 1 and sys.argv[1] == "--nightly":
    # implicit_peer.py --nightly DIR N THREADS: the nightly job alone, in its own process.
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    print("nightly_process_seconds", f"{nightly_job(sys.argv[2], int(sys.argv[3]), int(sys.argv[4])):.3f}")
    sys.exit(0)

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

nightly = os.environ.get("NIGHTLY_DIR")
if nightly:
    os.makedirs(nightly, exist_ok=True)
    np.save(os.path.join(nightly, "user_factors.npy"), model.user_factors)
    np.save(os.path.join(nightly, "item_factors.npy"), model.item_factors)
    sp.save_npz(os.path.join(nightly, "user_items.npz"), matrix, compressed=False)
    np.save(os.path.join(nightly, "user_ids.npy"), users.cat.categories.to_numpy(dtype=str))
    np.save(os.path.join(nightly, "item_ids.npy"), items.cat.categories.to_numpy(dtype=str))
