"""Folds and the peers for the additive churn benchmark (Scripts/bench/churn_gam.sh).

Usage:
  churn_gam_peer.py split DATA TARGET OUTDIR      5 stratified folds (scikit-learn StratifiedKFold, shuffled,
                                                   random_state 42): OUTDIR/train_K.csv and OUTDIR/test_K.csv
  churn_gam_peer.py peers DATA TARGET OUTDIR      per fold: InterpretML's EBM (interactions=10) fit time and ROC
                                                   AUC, scikit-learn's logistic regression (one-hot) ROC AUC
  churn_gam_peer.py score TARGET OUTDIR           ROC AUC of our per-fold scores OUTDIR/scores_K.csv
"""
import sys
import time

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold


def positive_of(y):
    values = set(y.astype(str))
    for p in ["Yes", "yes", "1", "true", "True"]:
        if p in values:
            return p
    raise SystemExit(f"no positive class among {values}")


def split(data, target, out):
    df = pd.read_csv(data, dtype=str, keep_default_na=False)
    skf = StratifiedKFold(n_splits=5, shuffle=True, random_state=42)
    for k, (tr, te) in enumerate(skf.split(df, df[target])):
        df.iloc[tr].to_csv(f"{out}/train_{k}.csv", index=False)
        df.iloc[te].to_csv(f"{out}/test_{k}.csv", index=False)


def features(df, target):
    x = df.drop(columns=[target])
    x = x.drop(columns=[c for c in x.columns if c.lower() in ("customer_id", "customerid")])
    for c in x.columns:
        converted = pd.to_numeric(x[c].replace("", np.nan), errors="coerce")
        if converted.notna().mean() > 0.95:
            x[c] = converted.fillna(converted.median())
    return x


def peers(data, target, out):
    from interpret.glassbox import ExplainableBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import OneHotEncoder, StandardScaler
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import make_pipeline

    ebm_aucs, ebm_times, lr_aucs = [], [], []
    pooled_y, pooled_ebm = [], []
    for k in range(5):
        tr = pd.read_csv(f"{out}/train_{k}.csv", dtype=str, keep_default_na=False)
        te = pd.read_csv(f"{out}/test_{k}.csv", dtype=str, keep_default_na=False)
        pos = positive_of(tr[target])
        ytr = (tr[target] == pos).astype(int).values
        yte = (te[target] == pos).astype(int).values
        xtr, xte = features(tr, target), features(te, target)
        ebm = ExplainableBoostingClassifier(interactions=10, random_state=42)
        start = time.perf_counter()
        ebm.fit(xtr, ytr)
        ebm_times.append(time.perf_counter() - start)
        p = ebm.predict_proba(xte)[:, 1]
        ebm_aucs.append(roc_auc_score(yte, p))
        pooled_y += list(yte)
        pooled_ebm += list(p)
        numeric = [c for c in xtr.columns if xtr[c].dtype.kind in "fi"]
        categorical = [c for c in xtr.columns if c not in numeric]
        lr = make_pipeline(
            ColumnTransformer(
                [("num", StandardScaler(), numeric), ("cat", OneHotEncoder(handle_unknown="ignore"), categorical)]
            ),
            LogisticRegression(max_iter=5000),
        )
        lr.fit(xtr, ytr)
        lr_aucs.append(roc_auc_score(yte, lr.predict_proba(xte)[:, 1]))
    print(f"ebm_auc_mean {np.mean(ebm_aucs):.4f}")
    print(f"ebm_auc_pooled {roc_auc_score(pooled_y, pooled_ebm):.4f}")
    print(f"ebm_fit_seconds_mean {np.mean(ebm_times):.3f}")
    print(f"logistic_auc_mean {np.mean(lr_aucs):.4f}")


def score(target, out):
    aucs, pooled_y, pooled_p = [], [], []
    for k in range(5):
        te = pd.read_csv(f"{out}/test_{k}.csv", dtype=str, keep_default_na=False)
        sc = pd.read_csv(f"{out}/scores_{k}.csv")
        pos = positive_of(te[target])
        y = (te[target] == pos).astype(int).values
        p = sc["churn_probability"].values
        assert len(p) == len(y)
        aucs.append(roc_auc_score(y, p))
        pooled_y += list(y)
        pooled_p += list(p)
    print(f"auc_mean {np.mean(aucs):.4f}")
    print(f"auc_mean_6 {np.mean(aucs):.6f} folds " + " ".join(f"{a:.4f}" for a in aucs))
    print(f"auc_pooled {roc_auc_score(pooled_y, pooled_p):.4f}")


if __name__ == "__main__":
    if sys.argv[1] == "split":
        split(*sys.argv[2:5])
    elif sys.argv[1] == "peers":
        peers(*sys.argv[2:5])
    else:
        score(*sys.argv[2:4])
