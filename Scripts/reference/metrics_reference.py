"""Reference values for Tests/ModelingTests/MetricsTests.swift, computed by scikit-learn on small fixed
inputs (with tied scores). Run: python3 Scripts/reference/metrics_reference.py (needs scikit-learn, numpy)."""
import numpy as np
from sklearn.metrics import (
    accuracy_score, auc, average_precision_score, brier_score_loss, f1_score, log_loss, mean_absolute_error,
    mean_squared_error, ndcg_score, precision_recall_curve, precision_score, recall_score, roc_auc_score,
)

y = np.array([1, 0, 1, 1, 0, 0, 1, 0, 0, 1, 0, 1])
s = np.array([0.9, 0.8, 0.8, 0.7, 0.6, 0.6, 0.6, 0.3, 0.2, 0.2, 0.1, 0.05])
p, r, _ = precision_recall_curve(y, s)
print("roc_auc", repr(roc_auc_score(y, s)))
print("average_precision", repr(average_precision_score(y, s)))
print("pr_auc_trapezoid", repr(auc(r, p)))
print("log_loss", repr(log_loss(y, s)))
print("brier", repr(brier_score_loss(y, s)))
pred = (s >= 0.5).astype(int)
print("accuracy@0.5", repr(accuracy_score(y, pred)))
print("precision@0.5", repr(precision_score(y, pred)))
print("recall@0.5", repr(recall_score(y, pred)))
print("f1@0.5", repr(f1_score(y, pred)))
print("log_loss_extremes", repr(log_loss([1, 0, 1], [1.0, 0.0, 0.0], labels=[0, 1])))

a = np.array([3.0, 4.0, 5.0, 1.0, 2.5])
b = np.array([2.5, 4.5, 4.0, 1.5, 3.0])
print("rmse", repr(mean_squared_error(a, b) ** 0.5))
print("mae", repr(mean_absolute_error(a, b)))

# Ranking: items 0..9, the model ranks them [7, 2, 9, 4, 0, 1, 3, 5, 6, 8]; relevant {2, 4, 5, 8}.
ranked = [7, 2, 9, 4, 0, 1, 3, 5, 6, 8]
relevant = {2, 4, 5, 8}
true = np.zeros((1, 10))
for i in relevant:
    true[0, i] = 1
score = np.zeros((1, 10))
for pos, item in enumerate(ranked):
    score[0, item] = 10 - pos
for k in (3, 5, 10):
    hits = [item in relevant for item in ranked[:k]]
    prec = sum(hits) / k
    rec = sum(hits) / len(relevant)
    ap = sum(sum(hits[: i + 1]) / (i + 1) for i, h in enumerate(hits) if h) / min(k, len(relevant))
    print(f"k={k} precision {prec!r} recall {rec!r} ndcg {ndcg_score(true, score, k=k)!r} map {ap!r}")
