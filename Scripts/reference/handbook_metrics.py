"""The handbook's test metrics on scored transactions, as its `performance_assessment` computes them.

Usage: handbook_metrics.py LABELED.csv SCORES.csv FIRST_DAY LAST_DAY

LABELED.csv: the handbook simulator's columns (TRANSACTION_ID, TX_TIME_DAYS, CUSTOMER_ID, TX_FRAUD, ...);
SCORES.csv: `fraud stream` output (transaction_id,score,...). Transactions of days FIRST_DAY..LAST_DAY (TX_TIME_DAYS,
inclusive) are assessed: ROC AUC, average precision, and card precision@100 — per day, each customer's highest
score, the 100 highest customers, the share of them with a fraud that day; customers found compromised in an
earlier test day's top 100 are removed from the following days (the handbook's `card_precision_top_k`).
"""
import sys

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score


def card_precision_top_k(df, k=100):
    detected = set()
    per_day = []
    for day in sorted(df.TX_TIME_DAYS.unique()):
        d = df[(df.TX_TIME_DAYS == day) & (~df.CUSTOMER_ID.isin(detected))]
        g = d.groupby("CUSTOMER_ID")[["score", "TX_FRAUD"]].max().sort_values("score", ascending=False, kind="mergesort")
        top = g.head(k)
        found = list(top[top.TX_FRAUD == 1].index)
        per_day.append(len(found) / k)
        detected.update(found)
    return float(np.mean(per_day))


def main():
    labeled, scores, first, last = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    tx = pd.read_csv(labeled, usecols=["TRANSACTION_ID", "TX_TIME_DAYS", "CUSTOMER_ID", "TX_FRAUD"])
    sc = pd.read_csv(scores, usecols=["transaction_id", "score"]).rename(columns={"transaction_id": "TRANSACTION_ID"})
    df = tx.merge(sc, on="TRANSACTION_ID")
    df = df[(df.TX_TIME_DAYS >= first) & (df.TX_TIME_DAYS <= last)]
    print(f"transactions {len(df)} frauds {int(df.TX_FRAUD.sum())}")
    print(f"roc_auc {roc_auc_score(df.TX_FRAUD, df.score):.4f}")
    print(f"average_precision {average_precision_score(df.TX_FRAUD, df.score):.4f}")
    print(f"card_precision@100 {card_precision_top_k(df):.4f}")


if __name__ == "__main__":
    main()
