"""The peer of `fraud serve` in Scripts/bench/fraud_serve.sh: FastAPI around River 0.26's pipeline of
Scripts/bench/river_peer.py (per-card TimeRolling mean and sum of the amount over 1, 7 and 30 days,
StandardScaler, LogisticRegression).

  fraud_serve_peer.py bodies STREAM.csv OUT.jsonl N [BATCH]
      writes the first N transactions of STREAM.csv as JSON bodies, one per line (BATCH transactions per body as
      an array when BATCH > 1), with the stream's field names; the label column is left out
  fraud_serve_peer.py prepare HISTORY.csv MODEL.pickle
      fits the pipeline on the labeled history in time order (predict, then learn, as river_peer.py) and saves it
  uvicorn fraud_serve_peer:app
      POST /v1/transactions with one transaction object or an array (environment PEER_MODEL: the pickle): each
      transaction enters the rolling features and the scaler (River's learn_during_predict) and is scored;
      answered with {transaction_id, score, decision, reasons, model_version} per transaction. The handler is
      `async`, so one event loop owns the model and requests are handled one at a time in arrival order (River's
      state is not thread-safe; a second worker process would split the cards' state between two models).
"""
import csv
import datetime as dt
import json
import os
import pickle
import sys

FIELDS = ("transaction_id", "timestamp", "card", "merchant", "merchant_category", "country", "amount", "lat", "lon")


def pipeline():
    from river_peer import pipeline as peer_pipeline  # the same model as the River peer of fraud.sh

    return peer_pipeline()


def when(text):
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S")


if len(sys.argv) > 1 and sys.argv[1] == "bodies":
    source, out, count = sys.argv[2], sys.argv[3], int(sys.argv[4])
    batch = int(sys.argv[5]) if len(sys.argv) > 5 else 1
    with open(source, newline="") as f, open(out, "w") as o:
        group = []
        for k, r in enumerate(csv.DictReader(f)):
            if k >= count:
                break
            body = {}
            for name in FIELDS:
                value = r.get(name, "")
                if value == "":
                    continue
                body[name] = float(value) if name in ("amount", "lat", "lon") else value
            group.append(body)
            if len(group) == batch:
                o.write(json.dumps(group[0] if batch == 1 else group, separators=(",", ":")) + "\n")
                group = []
    sys.exit(0)

if len(sys.argv) > 1 and sys.argv[1] == "prepare":
    history, out = sys.argv[2], sys.argv[3]
    model = pipeline()
    with open(history, newline="") as f:
        for r in csv.DictReader(f):
            x = {"card": r["card"], "amount": float(r["amount"])}
            model.predict_proba_one(x)
            model.learn_one(x, r["label"] == "1", t=when(r["timestamp"]))
    with open(out, "wb") as o:
        pickle.dump(model, o)
    sys.exit(0)

from fastapi import FastAPI, HTTPException, Request  # noqa: E402
from river import compose  # noqa: E402

with open(os.environ["PEER_MODEL"], "rb") as f:
    model = pickle.load(f)
app = FastAPI()


def decide(tx):
    try:
        x = {"card": str(tx["card"]), "amount": float(tx["amount"])}
        t = when(tx["timestamp"])
        tid = str(tx["transaction_id"])
    except (KeyError, TypeError, ValueError) as error:
        raise HTTPException(status_code=400, detail=f"bad transaction: {error}")
    with compose.learn_during_predict():
        score = model.predict_proba_one(x, t=t).get(True, 0.0)
    return {"transaction_id": tid, "score": score, "decision": "review" if score >= 0.5 else "approve",
            "reasons": [], "model_version": 1}


@app.post("/v1/transactions")
async def transactions(request: Request):
    body = await request.json()
    if isinstance(body, list):
        return [decide(tx) for tx in body]
    return decide(body)
