import Foundation
import StoreBackends
import Testing

@testable import Storage

@Suite struct StoreLocationTests {
  @Test func pathsAreSQLiteFiles() throws {
    #expect(try StoreLocation(parsing: "models.sqlite") == .sqlite(path: "models.sqlite"))
    #expect(try StoreLocation(parsing: "/tmp/postgresql/x.db") == .sqlite(path: "/tmp/postgresql/x.db"))
  }

  @Test func postgresURLs() throws {
    let plain = try PostgresAddress(parsing: "postgresql://ml@db.example:6543/registry")
    #expect(
      plain
        == PostgresAddress(user: "ml", password: nil, host: "db.example", port: 6543, database: "registry"))
    #expect(plain.description == "postgresql://ml@db.example:6543/registry")
    let socket = try PostgresAddress(parsing: "postgres://ml@/registry?host=/run/postgresql&schema=shop_a")
    #expect(socket.host == nil && socket.socketPath == "/run/postgresql/.s.PGSQL.5432" && socket.schema == "shop_a")
    #expect(socket.description == "postgresql://ml@/registry?host=/run/postgresql&schema=shop_a")
    // The password comes from the URL or PGPASSWORD and never appears in a message.
    let secret = try PostgresAddress(parsing: "postgresql://ml:s3cr%40t@localhost/registry")
    #expect(secret.password == "s3cr@t" && secret.port == 5432 && !secret.description.contains("s3cr"))
    let fromEnvironment = try PostgresAddress(
      parsing: "postgresql://ml@localhost/registry", environment: ["PGPASSWORD": "pw"])
    #expect(fromEnvironment.password == "pw")
    #expect(
      try StoreLocation(parsing: "postgresql://ml:pw@localhost/registry").description
        == "postgresql://ml@localhost:5432/registry")
  }

  @Test(arguments: [
    ("postgresql://localhost/registry", "names no user"),
    ("postgresql://ml@localhost/", "names no database"),
    ("postgresql://ml@localhost", "names no database"),
    ("postgresql://ml@/registry", "names no host"),
    ("postgresql://ml@localhost/registry?host=relative", "absolute path"),
    ("postgresql://ml@localhost/registry?schema=Drop%20Table", "schema= must be"),
    ("postgresql://ml@localhost/registry?sslmode=require", "without TLS"),
    ("postgresql://ml@localhost/registry?timeout=3", "unknown option 'timeout'"),
    ("postgresql://ml@localhost:99999/registry", "port 99999 is out of range"),
    ("postgresql://ml@local host/registry", "does not parse"),
  ])
  func badURLsSayWhatIsWrong(url: String, says: String) {
    #expect {
      _ = try StoreLocation(parsing: url)
    } throws: { error in
      guard case .invalidArgument(let text) = error as? StoreError else { return false }
      return text.contains(says)
    }
  }

  /// No server at the address: a store error naming the address (not a crash, not a hang).
  @Test func noServerIsAClearError() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("no-pg-\(UUID())")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let location = try StoreLocation(parsing: "postgresql://ml@/registry?host=\(dir.path)")
    #expect {
      _ = try location.openRegistry(create: false)
    } throws: { error in
      guard case .database(let path, let message) = error as? StoreError else { return false }
      return path == location.description && message.hasPrefix("cannot connect")
    }
  }
}
