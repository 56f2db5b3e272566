"""The peer of `recommend serve` in Scripts/bench/serve.sh: FastAPI around implicit's ALS `recommend`.

  serve_peer_recommend.py prepare RATINGS.csv DIR   fits ALS (64 factors, 15 iterations, as ours) and saves it
  uvicorn serve_peer_recommend:app                  serves GET /v1/users/{id}/recommendations?n=10 from DIR
                                                    (environment PEER_DIR), seen items filtered
"""
import json
import os
import sys

import numpy as np
import scipy.sparse as sp

if len(sys.argv) > 1 and sys.argv[1] == "prepare":
    import implicit
    import pandas as pd

    ratings, out = sys.argv[2], sys.argv[3]
    df = pd.read_csv(ratings, dtype={"user_id": str, "item_id": str})
    users = df["user_id"].astype("category")
    items = df["item_id"].astype("category")
    m = sp.csr_matrix(
        (df["rating"].astype(np.float32), (users.cat.codes, items.cat.codes)),
        shape=(len(users.cat.categories), len(items.cat.categories)))
    model = implicit.cpu.als.AlternatingLeastSquares(factors=64, iterations=15, regularization=20, random_state=42)
    model.fit(m, show_progress=False)
    os.makedirs(out, exist_ok=True)
    np.save(f"{out}/user_factors.npy", model.user_factors)
    np.save(f"{out}/item_factors.npy", model.item_factors)
    sp.save_npz(f"{out}/user_items.npz", m)
    with open(f"{out}/ids.json", "w") as f:
        json.dump({"users": list(users.cat.categories), "items": list(items.cat.categories)}, f)
    sys.exit(0)

from fastapi import FastAPI, HTTPException  # noqa: E402
import implicit  # noqa: E402

DIR = os.environ["PEER_DIR"]
model = implicit.cpu.als.AlternatingLeastSquares(factors=64)
model.user_factors = np.load(f"{DIR}/user_factors.npy")
model.item_factors = np.load(f"{DIR}/item_factors.npy")
user_items = sp.load_npz(f"{DIR}/user_items.npz").tocsr()
with open(f"{DIR}/ids.json") as f:
    ids = json.load(f)
user_row = {u: k for k, u in enumerate(ids["users"])}
item_ids = ids["items"]
app = FastAPI()


@app.get("/v1/users/{user_id}/recommendations")
def recommend(user_id: str, n: int = 10):
    row = user_row.get(user_id)
    if row is None:
        raise HTTPException(status_code=404, detail="unknown user")
    found, scores = model.recommend(row, user_items[row], N=n, filter_already_liked_items=True)
    return {"items": [{"rank": k + 1, "item_id": item_ids[i], "score": float(s)} for k, (i, s) in enumerate(zip(found, scores))]}
