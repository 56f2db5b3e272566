import ChurnCLI

ChurnCommandLine.main()
