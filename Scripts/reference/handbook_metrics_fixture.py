"""Writes Tests/FraudTests/Fixtures/handbook-scores.csv (scored transactions over 7 days) and prints the handbook's
metrics on it, computed by handbook_metrics.card_precision_top_k and scikit-learn: the constants of
FraudTests.handbookMetricsAgreeWithTheReference.

Usage: handbook_metrics_fixture.py OUT.csv
"""
import sys

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from handbook_metrics import card_precision_top_k  # noqa: E402

rng = np.random.default_rng(7)
rows = []
tx = 0
for day in range(7):
    for _ in range(600):
        customer = int(rng.integers(0, 250))
        fraud = int(rng.random() < (0.25 if customer < 30 else 0.01))
        score = round(float(np.clip(rng.normal(0.55 if fraud else 0.3, 0.2), 0, 1)), 6)
        rows.append((tx, day, customer, fraud, score))
        tx += 1
df = pd.DataFrame(rows, columns=["TRANSACTION_ID", "TX_TIME_DAYS", "CUSTOMER_ID", "TX_FRAUD", "score"])
df.to_csv(sys.argv[1], index=False)
print(f"roc_auc {roc_auc_score(df.TX_FRAUD, df.score):.10f}")
print(f"average_precision {average_precision_score(df.TX_FRAUD, df.score):.10f}")
print(f"card_precision@100 {card_precision_top_k(df):.10f}")
