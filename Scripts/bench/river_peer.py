"""The River side of the fraud benchmark (River 0.26): per-card TimeRolling mean and sum of the amount over
1, 7 and 30 days (feature_extraction.Agg), StandardScaler, LogisticRegression; for each transaction
predict_proba_one, then learn_one with its label. The CSV is parsed before the timer starts.
Prints `transactions N`, `seconds S`, `per_second R`. Usage: river_peer.py CSV [LIMIT]"""
import csv
import datetime as dt
import sys
import time

from river import compose, feature_extraction, linear_model, preprocessing, stats, utils


def pipeline():
    """The peer's model (also served by fraud_serve_peer.py): per-card TimeRolling mean and sum of the amount over
    1, 7 and 30 days, StandardScaler, LogisticRegression."""
    aggs = None
    for days in (1, 7, 30):
        for stat in (stats.Mean, stats.Sum):
            agg = feature_extraction.Agg(
                on="amount", by="card", how=utils.TimeRolling(stat(), period=dt.timedelta(days=days)))
            aggs = agg if aggs is None else aggs + agg
    return compose.Pipeline(aggs, preprocessing.StandardScaler(), linear_model.LogisticRegression())


def main():
    path = sys.argv[1]
    limit = int(sys.argv[2]) if len(sys.argv) > 2 else None

    model = pipeline()

    rows = []
    with open(path, newline="") as f:
        for k, r in enumerate(csv.DictReader(f)):
            if limit is not None and k >= limit:
                break
            when = dt.datetime.strptime(r["timestamp"], "%Y-%m-%d %H:%M:%S")
            rows.append((when, {"card": r["card"], "amount": float(r["amount"])}, r["label"] == "1"))

    start = time.perf_counter()
    alerts = 0
    for when, x, label in rows:
        if model.predict_proba_one(x).get(True, 0.0) >= 0.5:
            alerts += 1
        model.learn_one(x, label, t=when)
    seconds = time.perf_counter() - start
    print("transactions", len(rows))
    print("seconds", f"{seconds:.3f}")
    print("per_second", f"{len(rows) / seconds:.0f}")


if __name__ == "__main__":
    main()
