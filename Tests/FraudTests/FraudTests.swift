// Tests of the Fraud library arrive with it.
