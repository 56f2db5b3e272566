import ArgumentParser
import CPlatform
import Foundation
import LinearAlgebra
import Modeling
import Storage
import TabularIO

/// An error that knows the exit code it should end the process with.
///
/// Exit codes (as in `sysexits.h`): 64 usage, 65 bad input data, 66 input file missing or unreadable,
/// 69 model store unavailable or unusable, 1 anything else (e.g. no model trained yet).
public protocol ReportableError: Error, CustomStringConvertible {
  /// The process exit code for this error.
  var exitCode: Int32 { get }
  /// The message printed on standard error (default: `description`).
  var commandLineMessage: String { get }
}

extension ReportableError {
  public var commandLineMessage: String { description }
}

extension TabularError: ReportableError {
  public var exitCode: Int32 {
    switch kind {
    case .io: return 66
    case .usage: return 64
    case .empty, .malformedRecord, .badValue, .schema: return 65
    }
  }
}

extension StoreError: ReportableError {
  /// The description, with the option that points at another store where none was found.
  public var commandLineMessage: String {
    if case .storeNotFound(let path) = self {
      return "\(path): no model store here (train a model first, or pass --store PATH)"
    }
    return description
  }

  public var exitCode: Int32 {
    switch self {
    case .notAStore, .newerSchema, .database, .damagedPart: return 69
    case .cannotWrite, .unreadable: return 66
    case .invalidArgument: return 64
    case .outOfMemory: return 71
    case .changedWhileRead: return 75
    default: return 1
    }
  }
}

extension ModelingError: ReportableError {
  public var exitCode: Int32 {
    switch self {
    case .invalidArgument: return 64
    default: return 65
    }
  }
}

/// A runtime failure of a command with its own message and exit code.
public struct CommandFailure: ReportableError {
  public let description: String
  public let exitCode: Int32

  /// A failure printed as `message`, ending the process with `exitCode` (default 1).
  public init(_ message: String, exitCode: Int32 = 1) {
    self.description = message
    self.exitCode = exitCode
  }
}

/// Which command lines restart once for better BLAS kernels (see `CommandRunner.askForBetterBLASKernels`).
///
/// The restart costs a second process start — about 15 ms on the project's AMD EPYC machine (`recommend --help`
/// takes 18 ms whole; `Scripts/bench/restart_cost.sh`) — and pays only where BLAS does the bulk of the work:
/// fitting and batch scoring, where the generic kernels are several times slower for seconds or minutes. A command
/// serving one user (one small product), scoring a file (no BLAS), listing models or streaming starts once.
public enum KernelRestart {
  /// The subcommands that restart, by tool.
  public static let commands: [String: Set<String>] = [
    "recommend": ["train", "tune", "evaluate", "batch"],
    "churn": ["train", "evaluate"],
    "fraud": ["train", "evaluate"],
  ]

  /// Whether `arguments` (without the program name) of `tool` run a command that restarts.
  public static func pays(tool: String, arguments: [String]) -> Bool {
    guard let first = arguments.first else { return false }
    return commands[tool]?.contains(first) ?? false
  }
}

/// Which command lines run a server: those install no cleanup-and-exit signal handlers (SIGTERM and SIGINT drain
/// the server instead, and SIGHUP is ignored rather than ending it).
public enum ServerProcess {
  /// Whether `arguments` (without the program name) run a server.
  public static func isServer(_ arguments: [String]) -> Bool { arguments.first == "serve" }
}

/// Runs a command-line tool: parses the arguments, runs the command, and reports any error.
///
/// Usage errors are reported by ArgumentParser as usual (message and usage, exit 64). Runtime errors
/// print one line, `tool: error: message`, on standard error and exit with the error's code.
public enum CommandRunner {
  /// When OpenBLAS fell back to generic kernels on a processor newer than it knows (`BLASCore`), sets
  /// `OPENBLAS_CORETYPE` to the kernels the processor can run, for a restart; returns whether it did (never when the
  /// variable is set already, so a process restarts for it once at most).
  static func askForBetterBLASKernels() -> Bool {
    guard
      let core = BLASCore.betterCoreType(cpuFlags: {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
          let line = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
        else { return [] }
        return Set(line.split(separator: " ").map(String.init))
      })
    else { return false }
    setenv("OPENBLAS_CORETYPE", core, 1)
    return true
  }

  /// Under an address-space limit, sets `OPENBLAS_NUM_THREADS=1` for a restart and returns true (never when it is
  /// 1 already). OpenBLAS starts its worker threads when it loads, and each maps a 128 MiB work buffer at once:
  /// under a limit, where BLAS runs on one thread, they would never work but take that room from the data.
  static func askForNoBLASWorkers() -> Bool {
    guard ResourceLimits.addressSpaceHeadroom() != nil else { return false }
    if let set = getenv("OPENBLAS_NUM_THREADS"), String(cString: set) == "1" { return false }
    setenv("OPENBLAS_NUM_THREADS", "1", 1)
    return true
  }

  /// Runs this program again, same arguments and process id, with the environment set for OpenBLAS's load. When
  /// `execv` fails, returns and the process goes on as it is.
  static func restart() {
    execv("/proc/self/exe", CommandLine.unsafeArgv)
  }

  /// What to do when `tool` ran out of memory, printed after the out-of-memory error.
  static func outOfMemoryRemedy(tool: String) -> String {
    let more = "raise the limit (ulimit -v) or free memory"
    switch tool {
    case "recommend": return "train ALS rather than EASE (or lower --max-items), give it fewer interactions, or \(more)"
    case "churn": return "give it fewer rows or columns (score streams a file of any size; train holds it), or \(more)"
    case "fraud": return "give it a shorter history or --learn-memory, or \(more)"
    default: return more
    }
  }

  /// Parses `arguments` (default: the process's), runs, and exits.
  ///
  /// - Parameter usesBLAS: whether a command line may call BLAS at all: one that may is refused at once under an
  ///   address-space limit too tight for OpenBLAS's work buffer. Which of them restart for better BLAS kernels is
  ///   `KernelRestart.pays`.
  public static func main<Command: ParsableCommand>(
    _ command: Command.Type, arguments: [String]? = nil, usesBLAS: ([String]) -> Bool = { _ in true }
  ) -> Never {
    let tool = Command.configuration.commandName ?? "\(Command.self)".lowercased()
    let given = arguments ?? Array(CommandLine.arguments.dropFirst())
    // An allocation the system refuses (under `ulimit -v`, or with overcommit off) ends the process with a message
    // and exit 71, never a crash report.
    cml_install_out_of_memory_handler(tool, outOfMemoryRemedy(tool: tool))
    if usesBLAS(given) {
      // Both settings before one restart: OpenBLAS reads them only when it loads.
      let withoutWorkers = askForNoBLASWorkers()
      let betterKernels = KernelRestart.pays(tool: tool, arguments: given) && askForBetterBLASKernels()
      if withoutWorkers || betterKernels { restart() }
      // Under an address-space limit too tight for OpenBLAS's work buffer, OpenBLAS would wait forever for it:
      // refuse at once, with the limit that works (exit 71, the system refused a resource).
      if let refusal = ResourceLimits.blasRefusal(tool: tool) {
        printError(refusal)
        exit(71)
      }
      // Under a limit, one BLAS thread (one work buffer), and the buffer taken now while there is room.
      if ResourceLimits.addressSpaceHeadroom() != nil {
        BLASThreads.limit(to: 1)
        BLASThreads.warmUp()
        ResourceLimits.blasBufferTaken.withLock { $0 = true }
        // Each thread of a parallel loop may call BLAS at once, each call on a work buffer of its own: the pool
        // holds one from the warm-up; one more per processor is taken while the limit leaves room for it and 256
        // MiB to work, and the loops use no more threads than there are buffers (a call finding none would wait
        // forever for OpenBLAS to map one).
        var asked = 0
        let held = BLASThreads.takeBuffers(ThreadBudget.processors) {
          asked += 1
          return asked == 1 || ResourceLimits.canMap(ResourceLimits.blasReserve + (256 << 20))
        }
        ThreadBudget.limit(to: held)
      }
    }
    if ServerProcess.isServer(given) {
      // A server ends by draining on SIGTERM or SIGINT (its own handlers); a closed terminal must not end it.
      signal(SIGHUP, SIG_IGN)
    } else {
      // A stop by SIGINT, SIGTERM or SIGHUP leaves no temporary output file behind.
      OutputFiles.installCleanupHandlers()
    }
    if let message = nearSubcommand(Command.configuration, tool: tool, arguments: given) {
      printError(message)
      exit(64)
    }
    var parsed: ParsableCommand
    do {
      parsed = try Command.parseAsRoot(arguments)
    } catch {
      // With a default subcommand, ArgumentParser reports an unknown option as the default command's missing
      // argument ("Missing expected argument '<user-id>'"): name the option instead.
      let subcommands = Command.configuration.subcommands.compactMap { $0.configuration.commandName }
      if let defaultCommand = Command.configuration.defaultSubcommand,
        Command.message(for: error).hasPrefix("Missing expected argument '<"),
        !(given.first.map(subcommands.contains) ?? false)
      {
        let help = defaultCommand.helpMessage() + Command.helpMessage()
        if let unknown = given.first(where: { argument in
          guard argument.hasPrefix("--"), argument.count > 2 else { return false }
          let option = String(argument.split(separator: "=", maxSplits: 1)[0])
          return !help.contains(option + " ") && !help.contains(option + "\n") && !help.contains(option + ",")
            && !help.contains(option + "=") && !help.contains(option + "]")
        }) {
          printError("\(tool): error: unknown option '\(unknown)'\n\(Command.helpMessage())")
          exit(64)
        }
      }
      Command.exit(withError: error)
    }
    do {
      try parsed.run()
      flushStandardOutput(tool)
      exit(0)
    } catch let error as ReportableError {
      flushStandardOutput(tool)
      printError("\(tool): error: \(error.commandLineMessage)")
      exit(error.exitCode)
    } catch let error as LinearAlgebraError {
      flushStandardOutput(tool)
      printError(
        "\(tool): error: \(error); the data or the settings leave the problem without a stable solution (a larger regularization usually helps)"
      )
      exit(65)
    } catch {
      flushStandardOutput(tool)
      // ArgumentParser's own errors (help, validation, exit codes) are formatted by ArgumentParser; anything
      // else is reported like every other error, with the tool's name.
      if error is ValidationError || error is ExitCode || error is CleanExit
        || String(reflecting: type(of: error)).hasPrefix("ArgumentParser.")
      {
        Command.exit(withError: error)
      }
      printError("\(tool): error: \(error)")
      exit(70)
    }
  }

  /// For a tool whose default subcommand takes a value first (`recommend USER-ID`): a first argument that is
  /// not a subcommand but (nearly) spells one — `modles`, `Train` — is a typo far more often than an id, so it is
  /// answered with "did you mean" and how to mean the id (`recommend user modles`).
  static func nearSubcommand(_ configuration: CommandConfiguration, tool: String, arguments: [String]) -> String? {
    guard let defaultCommand = configuration.defaultSubcommand?.configuration.commandName,
      let first = arguments.first, !first.hasPrefix("-")
    else { return nil }
    let names = configuration.subcommands.compactMap { $0.configuration.commandName } + ["help"]
    guard !names.contains(first) else { return nil }
    let lowered = first.lowercased()
    let close = names.first { name in
      let limit = name.count >= 5 ? 2 : 1
      return lowered == name || editDistance(lowered, name) <= limit
    }
    guard let close else { return nil }
    return
      "\(tool): error: '\(first)' is not a command; did you mean '\(close)'? (to mean the id '\(first)', write: \(tool) \(defaultCommand) \(first))"
  }

  /// The optimal string alignment distance (insertions, deletions, substitutions, adjacent transpositions).
  static func editDistance(_ a: String, _ b: String) -> Int {
    let x = Array(a)
    let y = Array(b)
    if x.isEmpty || y.isEmpty { return max(x.count, y.count) }
    var d = [[Int]](repeating: [Int](repeating: 0, count: y.count + 1), count: x.count + 1)
    for i in 0...x.count { d[i][0] = i }
    for j in 0...y.count { d[0][j] = j }
    for i in 1...x.count {
      for j in 1...y.count {
        let cost = x[i - 1] == y[j - 1] ? 0 : 1
        d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
        if i > 1 && j > 1 && x[i - 1] == y[j - 2] && x[i - 2] == y[j - 1] {
          d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
        }
      }
    }
    return d[x.count][y.count]
  }

  /// Flushes standard output; a write failure there (a full disk, `/dev/full`, a closed pipe other than by
  /// the reader going away) is an error, exit 66, not a silent success.
  static func flushStandardOutput(_ tool: String) {
    let failure = cml_flush_standard_output()
    if failure != 0 {
      let reason = String(cString: strerror(failure))
      printError("\(tool): error: cannot write standard output: \(reason)")
      exit(66)
    }
  }
}
