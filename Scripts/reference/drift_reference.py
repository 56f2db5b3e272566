"""Reference values for DriftStatisticsTests (needs scipy). Run: python3 Scripts/reference/drift_reference.py

The samples are formulas the Swift test computes the same way, so no data file is shared."""
import numpy as np
from scipy.spatial.distance import jensenshannon
from scipy.stats import chisquare, ks_2samp, norm, wasserstein_distance

a = np.array([(i * 37 % 101) / 10 for i in range(150)])
b = np.array([(j * 53 % 97) / 9 + 0.5 for j in range(120)])
c = np.array([(j * 29 % 89) / 8.9 + 1.2 for j in range(150)])  # same size as a
d = np.array([(i * 13 % 211) / 21.1 + 0.3 for i in range(1300)])

for name, (x, y) in {"ab": (a, b), "ac": (a, c), "ad": (a, d), "bd": (b, d)}.items():
    r = ks_2samp(x, y)
    print(f"ks {name}: {float(r.statistic)!r} {float(r.pvalue)!r}")
for name, (x, y) in {"ab": (a, b), "ad": (a, d)}.items():
    print(f"wasserstein {name}: {wasserstein_distance(x, y)!r} std {np.std(x)!r}")

obs = np.array([30.0, 45.0, 25.0, 20.0])
ref = np.array([100.0, 120.0, 90.0, 40.0])
exp = ref * obs.sum() / ref.sum()
r = chisquare(obs, exp)
print(f"chisquare: {float(r.statistic)!r} {float(r.pvalue)!r}")
print(f"jensenshannon: {jensenshannon(ref, obs)!r}")
print(f"jensenshannon zero bin: {jensenshannon([5.0, 0.0, 3.0], [1.0, 2.0, 0.0])!r}")

# Evidently's two-proportion Z-test: 40 of 300 against 70 of 400.
n1, n2, k1, k2 = 300, 400, 40, 70
p1, p2 = k1 / n1, k2 / n2
P = (k1 + k2) / (n1 + n2)
z = (p1 - p2) / np.sqrt(P * (1 - P) * (1 / n1 + 1 / n2))
print(f"z: {z!r} {2 * (1 - norm.cdf(abs(z)))!r}")

# The finite-n two-sided Kolmogorov distribution that ks_2samp uses beyond 10,000 values (scipy.stats.kstwo),
# on a grid that reaches each of its methods: the Ruben-Gambino ends, the Durbin matrix, Pomeranz, Miller's
# 2*smirnov, Pelz-Good, and the exact x >= 0.5 form.
from scipy.stats import kstwo

print("kstwo grid (n, x, sf):")
for n in [1, 2, 5, 10, 37, 140, 141, 500, 1000, 4999, 20000, 100000, 100001, 250000]:
    xs = [0.3 / n, 0.75 / n, 1.5 / n, 0.5 / np.sqrt(n), 0.8 / np.sqrt(n), 1.1 / np.sqrt(n), 1.4 / np.sqrt(n),
          1.9 / np.sqrt(n), 2.6 / np.sqrt(n), 5.0 / np.sqrt(n), 0.55, 1 - 0.5 / n]
    for x in xs:
        if 0 < x < 1:
            print(f"  ({n}, {float(x)!r}, {float(kstwo.sf(x, n))!r}),")

# ks_2samp past 10,000 values: a shifted grid against a small sample and against another large one.
e = np.array([(i * 7919 % 20011) / 20011 for i in range(20011)])
f = np.array([(j * 31 % 157) / 157 * 1.08 + 0.01 for j in range(157)])
g = np.array([(j * 101 % 12007) / 12007 * 0.97 + 0.02 for j in range(12007)])
for name, (x, y) in {"ef": (e, f), "eg": (e, g)}.items():
    r = ks_2samp(x, y)
    print(f"ks {name}: {float(r.statistic)!r} {float(r.pvalue)!r}")
