// A child process for StorageTests: writes to a store so that the test can kill it mid-transaction or
// read while it writes. Not part of the product.
//
// STORE is a file path or a postgresql:// URL.
//
//   store-test-helper register-and-hang STORE NAME BYTES    registers a version, stops inside the transaction
//   store-test-helper checkpoint-and-hang STORE NAME SEQ    saves a checkpoint, stops inside the transaction
//   store-test-helper register-loop STORE NAME COUNT        registers COUNT versions; part bytes all = version % 256
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
  default:
    FileHandle.standardError.write(Data("unknown command \(command)\n".utf8))
    exit(64)
  }
} catch {
  FileHandle.standardError.write(Data("store-test-helper: \(error)\n".utf8))
  exit(1)
}
