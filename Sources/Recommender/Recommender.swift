// The recommendation domain library: built in issue 3 (matrix-factorization recommender).
