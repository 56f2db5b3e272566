import FraudCLI

FraudCommandLine.main()
