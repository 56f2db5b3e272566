import RecommendCLI

RecommendCommandLine.main()
