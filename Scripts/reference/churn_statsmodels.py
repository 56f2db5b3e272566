"""Reference coefficients and standard errors for Tests/ChurnTests: statsmodels' Logit on the design matrix
that `churn train` builds from SampleData/churn/customers.csv.

    churn train --data SampleData/churn/customers.csv --target churned --cv 0 --design-matrix /tmp/design.csv
    python3 Scripts/reference/churn_statsmodels.py /tmp/design.csv     (needs statsmodels, pandas)
"""
import sys

import pandas as pd
import statsmodels.api as sm

df = pd.read_csv(sys.argv[1])
y = df.iloc[:, -1]
X = sm.add_constant(df.iloc[:, :-1], prepend=True)
fit = sm.Logit(y, X).fit(method="newton", tol=1e-12, maxiter=100, disp=False)
print(f"llf {fit.llf!r} llnull {fit.llnull!r} prsquared {fit.prsquared!r} llr_pvalue {fit.llr_pvalue!r} aic {fit.aic!r}")
for name, b, se in zip(X.columns, fit.params, fit.bse):
    print(f'("{name}", {b!r}, {se!r}),')
