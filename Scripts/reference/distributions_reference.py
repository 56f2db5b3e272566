"""Reference values for DistributionTests (needs scipy)."""
from scipy.stats import chi2, norm

print(repr(norm.cdf(1.96)), repr(chi2.sf(3.84, 1)), repr(chi2.sf(30, 10)), repr(chi2.sf(5, 20)))
