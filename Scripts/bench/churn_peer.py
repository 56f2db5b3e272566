"""The peer of the churn benchmark: pandas + scikit-learn doing what `churn train --cv 0` and `churn score` do.

    churn_peer.py train CSV            read_csv, one-hot (drop first), blank TotalCharges → median, scaling,
                                       LogisticRegression(solver="newton-cholesky") fit (defaults: C = 1)
    churn_peer.py score CSV OUT        the same fit outside the timer, then timed: read_csv, the same
                                       transform, predict_proba, to_csv
Prints `seconds N` and `peak_rss_mb N`."""
import resource
import sys
import time

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

mode, path = sys.argv[1], sys.argv[2]


def prepare(df, columns=None):
    df = df.copy()
    df["TotalCharges"] = pd.to_numeric(df["TotalCharges"], errors="coerce")
    df["TotalCharges_missing"] = df["TotalCharges"].isna().astype(float)
    df["TotalCharges"] = df["TotalCharges"].fillna(df["TotalCharges"].median())
    y = (df.pop("Churn") == "Yes").to_numpy() if "Churn" in df.columns else None
    ids = df.pop("customerID")
    X = pd.get_dummies(df, drop_first=True, dtype=float)
    if columns is not None:
        X = X.reindex(columns=columns, fill_value=0.0)
    return X, y, ids


def fit(df):
    X, y, _ = prepare(df)
    scaler = StandardScaler().fit(X)
    model = LogisticRegression(solver="newton-cholesky", max_iter=100).fit(scaler.transform(X), y)
    return X.columns, scaler, model


if mode == "train":
    start = time.perf_counter()
    df = pd.read_csv(path)
    fit(df)
    print("seconds", f"{time.perf_counter() - start:.3f}")
else:
    columns, scaler, model = fit(pd.read_csv(path))
    start = time.perf_counter()
    df = pd.read_csv(path)
    X, _, ids = prepare(df, columns)
    p = model.predict_proba(scaler.transform(X))[:, 1]
    pd.DataFrame({"customerID": ids, "churn_probability": p, "churn": (p >= 0.5).astype(int)}).to_csv(sys.argv[3], index=False)
    print("seconds", f"{time.perf_counter() - start:.3f}")
print("peak_rss_mb", f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")
