// Tests of the Churn library arrive with it.
