import ArgumentParser
import CommandLineSupport
import Foundation
import LinearAlgebra
import Service

struct ServeCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "serve", abstract: "Serve churn scores over HTTP (JSON) from the active model, prepared once.",
    discussion: """
      Routes: GET /healthz, /readyz, /metrics (Prometheus), /v1/model; POST /v1/score?reasons=3&threshold=T with a \
      JSON array of customer objects (column name → value; numbers as JSON numbers or strings) or a text/csv body \
      with a header, at most 10,000 customers: per customer its id, probability, decision (churn or stay), decile \
      and reasons, or an error naming the column while the others are scored. A promote or rollback by another \
      process is served within a second. SIGTERM or SIGINT: readiness turns false, requests in flight finish \
      within --grace seconds, exit 0.
      """)

  @Option(name: .long, help: "The address to listen on.") var host = "127.0.0.1"
  @Option(name: .long, help: "The port (0: any free port, printed once listening).") var port = 8080
  @Option(name: .customLong("token-file"), help: "Require 'Authorization: Bearer TOKEN' (the file's first line).")
  var tokenFile: String?
  @Option(name: .customLong("max-body"), help: "The largest request body, in bytes.") var maxBody = 8 << 20
  @Option(name: .long, help: "Seconds requests in flight may take to finish on SIGTERM.") var grace = 10.0
  @OptionGroup var name: ChurnModelName
  @Flag(name: .long, help: "Print the server's OpenAPI document and exit.") var openapi = false
  @OptionGroup var storeOptions: StoreOptions

  func validate() throws {
    guard (0...65535).contains(port) else { throw ValidationError("--port must be 0 to 65535, got \(port)") }
    guard maxBody >= 1024 else { throw ValidationError("--max-body must be at least 1024 bytes, got \(maxBody)") }
    guard grace >= 0, grace <= 3600 else { throw ValidationError("--grace must be 0 to 3600 seconds, got \(grace)") }
  }

  func run() throws {
    if openapi {
      print(try OpenAPIDocument.text(.churn), terminator: "")
      return
    }
    // Scoring calls no BLAS; one thread, set once for the process.
    BLASThreads.set(1)
    var options = ServerOptions()
    options.host = host
    options.port = port
    options.token = try tokenFile.map { try Serve.token(fromFile: $0) }
    options.maxBodyBytes = maxBody
    options.grace = grace
    let store = try storeOptions.openModels(create: false)
    try Serve.blocking(
      ChurnRoutes.server(store: store, name: name.model, options: options, logger: Serve.logger("churn")))
  }
}
