"""Peers on the handbook benchmark: the Practical Handbook's baseline features and models, for comparison.

Usage: fraud_handbook_peer.py ALL.csv TRAIN_DAYS OUT_DIR

ALL.csv: `fraud simulate --profile handbook` output. The features are the handbook's ("Baseline feature
transformation"): the amount, weekend and night flags; per customer, the count and mean amount of its transactions
over the last 1, 7 and 30 days (the current one included); per terminal, the count of transactions and the fraud
rate over the 1, 7 and 30 days that end 7 days (the label delay) before the transaction. Days 0..TRAIN_DAYS-1
(TX_TIME_DAYS) train; every later transaction is scored. Models: the handbook's logistic regression (standardized
features), scikit-learn's random forest (100 trees, every fraud and one legitimate transaction in four) and
histogram gradient boosting (a strong boosted-trees peer). Writes OUT_DIR/peer-<model>.csv (transaction_id,score),
for `Scripts/reference/handbook_metrics.py`, and prints each model's fit time.
"""
import sys
import time

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

DELAY = 7
WINDOWS = (1, 7, 30)


def customer_features(df):
    parts = []
    for _, g in df.groupby("CUSTOMER_ID", sort=False):
        g = g.set_index("TX_DATETIME")
        out = pd.DataFrame(index=g.index)
        out["TRANSACTION_ID"] = g["TRANSACTION_ID"].values
        for w in WINDOWS:
            total = g["TX_AMOUNT"].rolling(f"{w}D").sum()
            count = g["TX_AMOUNT"].rolling(f"{w}D").count()
            out[f"CUSTOMER_NB_TX_{w}D"] = count.values
            out[f"CUSTOMER_AVG_AMOUNT_{w}D"] = (total / count).values
        parts.append(out.reset_index(drop=True))
    return pd.concat(parts)


def terminal_features(df):
    parts = []
    for _, g in df.groupby("TERMINAL_ID", sort=False):
        g = g.set_index("TX_DATETIME")
        out = pd.DataFrame(index=g.index)
        out["TRANSACTION_ID"] = g["TRANSACTION_ID"].values
        frauds_delay = g["TX_FRAUD"].rolling(f"{DELAY}D").sum()
        count_delay = g["TX_FRAUD"].rolling(f"{DELAY}D").count()
        for w in WINDOWS:
            frauds = g["TX_FRAUD"].rolling(f"{DELAY + w}D").sum() - frauds_delay
            count = g["TX_FRAUD"].rolling(f"{DELAY + w}D").count() - count_delay
            out[f"TERMINAL_NB_TX_{w}D"] = count.values
            out[f"TERMINAL_RISK_{w}D"] = np.where(count > 0, frauds / count.where(count > 0, 1), 0.0)
        parts.append(out.reset_index(drop=True))
    return pd.concat(parts)


def main():
    path, train_days, out_dir = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    df = pd.read_csv(path, parse_dates=["TX_DATETIME"])
    df = df.sort_values(["TX_DATETIME", "TRANSACTION_ID"], kind="mergesort").reset_index(drop=True)
    df["TX_DURING_WEEKEND"] = (df.TX_DATETIME.dt.day_of_week >= 5).astype(int)
    df["TX_DURING_NIGHT"] = (df.TX_DATETIME.dt.hour <= 6).astype(int)
    started = time.time()
    df = df.merge(customer_features(df), on="TRANSACTION_ID").merge(terminal_features(df), on="TRANSACTION_ID")
    print(f"features: {time.time() - started:.1f} s")
    names = ["TX_AMOUNT", "TX_DURING_WEEKEND", "TX_DURING_NIGHT"]
    names += [f"CUSTOMER_{k}_{w}D" for w in WINDOWS for k in ("NB_TX", "AVG_AMOUNT")]
    names += [f"TERMINAL_{k}_{w}D" for w in WINDOWS for k in ("NB_TX", "RISK")]
    train = df[df.TX_TIME_DAYS < train_days]
    test = df[df.TX_TIME_DAYS >= train_days]
    x, y = train[names].to_numpy(), train.TX_FRAUD.to_numpy()
    rng = np.random.default_rng(42)
    kept = (y == 1) | (rng.random(len(y)) < 0.25)
    models = {
        "logistic": (make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)), np.ones(len(y), bool)),
        "forest": (RandomForestClassifier(n_estimators=100, min_samples_leaf=5, n_jobs=2, random_state=0), kept),
        "boosting": (HistGradientBoostingClassifier(random_state=0), np.ones(len(y), bool)),
    }
    for name, (model, rows) in models.items():
        started = time.time()
        model.fit(x[rows], y[rows])
        fitted = time.time() - started
        scores = model.predict_proba(test[names].to_numpy())[:, 1]
        pd.DataFrame({"transaction_id": test.TRANSACTION_ID, "score": scores}).to_csv(
            f"{out_dir}/peer-{name}.csv", index=False
        )
        print(f"{name}: fit {fitted:.1f} s on {int(rows.sum())} rows")


if __name__ == "__main__":
    main()
