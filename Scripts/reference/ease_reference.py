"""Reference EASE weights for Tests/RecommenderTests (EASETests): numpy on a small binarized matrix.

    python3 Scripts/reference/ease_reference.py      (needs numpy)

B = I - P diag(1/diag(P)), P = (X^T X + lambda I)^-1, diagonal set to 0 (Steck 2019, WWW).
"""
import numpy as np

# users x items, the test's interactions (value > 0 counts as 1)
X = np.array(
    [
        [1, 1, 0, 0, 1],
        [0, 1, 1, 0, 0],
        [1, 0, 1, 1, 0],
        [0, 0, 1, 1, 1],
        [1, 1, 1, 0, 0],
        [0, 1, 0, 1, 1],
    ],
    dtype=float,
)
lam = 2.0
G = X.T @ X + lam * np.eye(X.shape[1])
P = np.linalg.inv(G)
B = -P / np.diag(P)
np.fill_diagonal(B, 0.0)
for row in B:
    print("[" + ", ".join(repr(float(v)) for v in row) + "],")
print("scores of user 0:", [float(v) for v in X[0] @ B])
