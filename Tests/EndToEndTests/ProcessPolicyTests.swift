import CommandLineSupport
import Foundation
import Testing

/// What every executable loads and when it restarts itself (issue 23).
@Suite struct ProcessPolicyTests {
  /// Each tool links one BLAS/LAPACK library, OpenBLAS: the dynamic loader's list of what the executable needs
  /// (`LD_TRACE_LOADED_OBJECTS`, nothing run) names no `libblas.so.3`, `liblapack.so.3` or `liblapacke`.
  @Test(arguments: ["recommend", "churn", "fraud", "commerceml"])
  func oneOpenBLASPerExecutable(tool: String) throws {
    let r = try run(tool, [], environment: ["LD_TRACE_LOADED_OBJECTS": "1"])
    #expect(r.status == 0, "\(r)")
    let blas = r.stdout.split(separator: "\n").filter {
      let name = $0.split(separator: " ").first.map { $0.lowercased() } ?? ""
      return name.contains("blas") || name.contains("lapack")
    }
    #expect(blas.count == 1, "\(blas)")
    #expect(blas.allSatisfy { $0.contains("libopenblas") }, "\(blas)")
  }

  /// Only commands whose bulk is BLAS work restart for better kernels; serving one user, scoring, drift,
  /// explaining, listing models, simulating and streaming start once.
  @Test func restartOnlyWhereBLASDoesTheWork() {
    for (tool, command) in [
      ("recommend", "train"), ("recommend", "tune"), ("recommend", "evaluate"), ("recommend", "batch"),
      ("churn", "train"), ("churn", "evaluate"), ("fraud", "train"), ("fraud", "evaluate"),
    ] {
      #expect(KernelRestart.pays(tool: tool, arguments: [command, "--store", "x"]), "\(tool) \(command)")
    }
    for (tool, arguments) in [
      ("recommend", ["U1"]), ("recommend", ["similar", "P1"]), ("recommend", ["models"]), ("recommend", []),
      ("churn", ["score", "f.csv"]), ("churn", ["drift", "f.csv"]), ("churn", ["explain", "f.csv"]),
      ("fraud", ["stream"]), ("fraud", ["simulate"]), ("fraud", ["models", "list"]), ("other", ["train"]),
      // An id that happens to be a command's name is still its first argument: `recommend train` is the command.
      ("recommend", ["--store", "x", "train"]),
    ] {
      #expect(!KernelRestart.pays(tool: tool, arguments: arguments), "\(tool) \(arguments)")
    }
  }
}
