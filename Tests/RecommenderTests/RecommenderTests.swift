// Tests of the Recommender library arrive with it.
