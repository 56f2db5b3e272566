// The churn domain library: built in issue 4 (logistic-regression churn models).
