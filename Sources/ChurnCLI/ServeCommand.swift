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

  @OptionGroup var server: ServerArguments
  @OptionGroup var name: ChurnModelName
  @Flag(name: .long, help: "Print the server's OpenAPI document and exit.") var openapi = false
  @OptionGroup var storeOptions: StoreOptions

  func validate() throws {
  }

  func run() throws {
    if openapi {
      print(try OpenAPIDocument.text(.churn), terminator: "")
      return
    }
    // Scoring calls no BLAS; one thread, set once for the process.
    BLASThreads.set(1)
    let options = try server.options()
    let store = try storeOptions.openModels(create: false)
    try Serve.blocking(
      ChurnRoutes.server(store: store, name: name.model, options: options, logger: Serve.logger("churn")))
  }
}
