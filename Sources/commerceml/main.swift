// One executable that is `recommend`, `churn` or `fraud` by the name it is started under (the container image
// links the three names to it, so that it holds the code they share once), or by its first argument:
// `commerceml churn score customers.csv`.
import ChurnCLI
import CommandLineSupport
import FraudCLI
import RecommendCLI

#if canImport(Glibc)
  import Glibc
#endif

let tools = ["recommend", "churn", "fraud"]
let arguments = CommandLine.arguments
let invokedAs = arguments.first.flatMap { $0.split(separator: "/").last.map(String.init) } ?? ""

func run(_ tool: String, arguments: [String]?) -> Never {
  switch tool {
  case "recommend": RecommendCommandLine.main(arguments: arguments)
  case "churn": ChurnCommandLine.main(arguments: arguments)
  default: FraudCommandLine.main(arguments: arguments)
  }
}

if tools.contains(invokedAs) {
  run(invokedAs, arguments: nil)
} else if arguments.count > 1, tools.contains(arguments[1]) {
  run(arguments[1], arguments: Array(arguments.dropFirst(2)))
} else {
  let usage = """
    usage: commerceml recommend|churn|fraud [ARGUMENTS...]
    (or start it under the name recommend, churn or fraud, e.g. through a symbolic link)
    """
  if arguments.count == 2, ["-h", "--help", "help"].contains(arguments[1]) {
    print(usage)
    exit(0)
  }
  if arguments.count > 1 {
    printError("commerceml: error: unknown tool '\(arguments[1])'; the tools are \(tools.joined(separator: ", "))")
  }
  printError(usage)
  exit(64)
}
