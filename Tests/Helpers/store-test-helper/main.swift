// A child process for StorageTests: writes to a store so that the test can kill it mid-transaction or
// read while it writes. Not part of the product.
//
// STORE is a file path or a postgresql:// URL.
//
//   store-test-helper register-and-hang STORE NAME BYTES    registers a version, stops inside the transaction
//   store-test-helper checkpoint-and-hang STORE NAME SEQ    saves a checkpoint, stops inside the transaction
//   store-test-helper register-loop STORE NAME COUNT        registers COUNT versions; part bytes all = version % 256
//   store-test-helper register-load STORE NAME MIB          registers a version of MIB MiB in 4 parts and reads it whole
//                                                           back, 3 times; prints the best seconds of each (benchmark)
//   store-test-helper load STORE NAME N                      reads the active version of NAME whole N times; prints the
//                                                           best seconds
import Foundation
import Storage
import StoreBackends

func hang() -> Never {
  FileHandle.standardOutput.write(Data("IN-TRANSACTION\n".utf8))
  while true { sleep(60) }
}

let args = CommandLine.arguments
guard args.count == 5 else {
  FileHandle.standardError.write(Data("usage: store-test-helper COMMAND STORE NAME N\n".utf8))
  exit(64)
}
let (command, path, name, n) = (args[1], args[2], args[3], Int(args[4]) ?? 0)
do {
  switch command {
  case "register-and-hang":
    let store = try StoreLocation(parsing: path).openRegistry(create: true)
    _ = try store.register(
      NewModelVersion(
        name: name, kind: "test", dataBytes: n, dataHash: "0", parts: ["payload": [UInt8](repeating: 0xAB, count: n)]),
      activate: true, beforeCommit: { hang() })
  case "checkpoint-and-hang":
    let store = try StoreLocation(parsing: path).openRegistry(create: true).checkpoints()
    try store.save(name, sequence: n, state: [UInt8](repeating: 0xCD, count: 1 << 20), beforeCommit: { hang() })
  case "register-loop":
    let store = try StoreLocation(parsing: path).openRegistry(create: true)
    for _ in 0..<n {
      let next = (try? store.list(name: name).first?.version ?? 0) ?? 0
      let v = next + 1
      _ = try store.register(
        NewModelVersion(
          name: name, kind: "test", metrics: ["version": Double(v)], dataBytes: v, dataHash: "\(v)",
          parts: ["payload": [UInt8](repeating: UInt8(v % 256), count: 1000 * v)]))
    }
    print("DONE")
  case "register-load":
    let store = try StoreLocation(parsing: path).openRegistry(create: true)
    var generator = SystemRandomNumberGenerator()
    let parts = (0..<4).reduce(into: [String: [UInt8]]()) { parts, k in
      var bytes = [UInt8](repeating: 0, count: n << 18)
      for j in stride(from: 0, to: bytes.count, by: 8) {
        withUnsafeBytes(of: generator.next()) { for b in 0..<8 where j + b < bytes.count { bytes[j + b] = $0[b] } }
      }
      parts["part\(k)"] = bytes
    }
    var best = (register: Double.infinity, load: Double.infinity)
    for _ in 0..<3 {
      let started = Date()
      let version = try store.register(
        NewModelVersion(name: name, kind: "test", dataBytes: n, dataHash: "0", parts: parts))
      let registered = Date()
      let loaded = try InMemoryArtifactReader.load(from: store, name: name, version: version.version)
      guard loaded.byteCount == n << 20 else { throw StoreError.invalidArgument("read back \(loaded.byteCount) bytes") }
      best.register = min(best.register, registered.timeIntervalSince(started))
      best.load = min(best.load, Date().timeIntervalSince(registered))
    }
    print(String(format: "register %.3f load %.3f", best.register, best.load))
  case "load":
    let store = try StoreLocation(parsing: path).openRegistry(create: false)
    var best = Double.infinity
    for _ in 0..<max(n, 1) {
      let started = Date()
      guard let active = try store.list(name: name).first(where: { $0.isActive }) else {
        throw StoreError.invalidArgument("no active version of \(name)")
      }
      let loaded = try InMemoryArtifactReader.load(from: store, name: name, version: active.version)
      guard loaded.byteCount > 0 else { throw StoreError.invalidArgument("read back nothing") }
      best = min(best, Date().timeIntervalSince(started))
    }
    print(String(format: "load %.3f", best))
  default:
    FileHandle.standardError.write(Data("unknown command \(command)\n".utf8))
    exit(64)
  }
} catch {
  FileHandle.standardError.write(Data("store-test-helper: \(error)\n".utf8))
  exit(1)
}
