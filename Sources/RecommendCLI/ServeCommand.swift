import ArgumentParser
import CommandLineSupport
import Foundation
import LinearAlgebra
import Service

struct ServeCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "serve", abstract: "Serve recommendations over HTTP (JSON) from the active model, held in memory.",
    discussion: """
      Routes: GET /healthz, /readyz, /metrics (Prometheus), /v1/model; GET /v1/users/{id}/recommendations?n=10&\
      include_seen=false&strict=false; POST /v1/recommendations {"user_id"?, "history": [...], "n"} for a visitor \
      the model does not know; GET /v1/items/{id}/similar?n=10; POST /v1/recommendations/batch {"users": [...], \
      "n"} (at most 1000 users). A promote or rollback by another process is served within a second, once the new \
      version is loaded whole. SIGTERM or SIGINT: readiness turns false, requests in flight finish within --grace \
      seconds, exit 0.
      """)

  @OptionGroup var server: ServerArguments
  @OptionGroup var name: ModelNameOption
  @Flag(name: .long, help: "Print the server's OpenAPI document and exit.") var openapi = false
  @OptionGroup var storeOptions: StoreOptions

  func validate() throws {
  }

  func run() throws {
    if openapi {
      print(try OpenAPIDocument.text(.recommend), terminator: "")
      return
    }
    // Requests run at once on the server's threads: BLAS gets one thread, set once for the process.
    BLASThreads.set(1)
    let options = try server.options(maxBodyDefault: 1 << 20)
    let store = try storeOptions.openModels(create: false)
    try Serve.blocking(
      RecommendRoutes.server(store: store, name: name.model, options: options, logger: Serve.logger("recommend")))
  }
}
