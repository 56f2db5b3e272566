import Storage
import StoragePostgres
import StorageSQLite

extension StoreLocation {
  /// Opens the registry; `create` for commands that write (training), not for those that only read, so
  /// that a mistyped location is an error rather than a new empty registry.
  public func openRegistry(create: Bool) throws(StoreError) -> any ModelRegistry {
    switch self {
    case .sqlite(let path): return try ModelStore(path: path, create: create)
    case .postgresql(let address): return try PostgresRegistry(address: address, create: create)
    }
  }
}
