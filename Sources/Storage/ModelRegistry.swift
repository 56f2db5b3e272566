import Foundation

/// The versioned model registry, whatever holds it: every app registers, lists, activates and reads its
/// models through this, never through a backend's own type.
///
/// The backends are `ModelStore` (SQLite, module StorageSQLite) and `PostgresRegistry` (module StoragePostgres);
/// each implements these requirements and runs the same test suite (`Tests/StorageTests`, written against this protocol). Every requirement is atomic: a
/// registration is seen whole or not at all, and a reader sees one consistent snapshot.
public protocol ModelRegistry: AnyObject, Sendable {
  /// Where the registry is, for messages (a file path; never a password).
  var location: String { get }

  /// The files the registry lives in (for SQLite the store file and its `-wal`, `-shm` and `-journal`
  /// companions, whether they exist now or not): no command may write an output onto one of them.
  var files: [String] { get }

  /// Registers a new version of `model.name` in one transaction and, when `activate`, makes it active.
  /// `beforeCommit` runs inside the transaction just before the commit (crash tests stop there).
  func register(
    _ model: NewModelVersion, activate: Bool, beforeCommit: (() -> Void)?
  ) throws(StoreError) -> ModelVersion

  /// Makes `version` the active version of `name`.
  @discardableResult
  func promote(_ name: String, version: Int) throws(StoreError) -> ModelVersion

  /// Undoes the latest activation of `name`.
  @discardableResult
  func rollback(_ name: String) throws(StoreError) -> Rollback

  /// Every version (of `name`, or of kinds starting with `kindPrefix`), by name and newest first.
  func list(name: String?, kindPrefix: String?) throws(StoreError) -> [ModelVersion]

  /// Version `version` of `name`.
  func version(_ name: String, _ version: Int) throws(StoreError) -> ModelVersion

  /// The active version of `name`.
  func active(_ name: String) throws(StoreError) -> ModelVersion

  /// What is active for `name` now, in one cheap read: the version and the activation that made it active. Every
  /// promote, rollback or activating registration changes it (a rollback to a version promoted again included), so
  /// a server polls it to learn that another process changed the active version. `nil` when none is active.
  func activation(_ name: String) throws(StoreError) -> Activation?

  /// Calls `body` with a reader of this version's artifact parts, all read from one snapshot.
  /// Errors thrown by `body` pass through unchanged. `body` must only read: a backend may call it again on a new
  /// snapshot (SQLite, for a file read as immutable that another process changed during the read).
  func withArtifactReader<T>(_ name: String, version: Int, _ body: (any ArtifactReader) throws -> T) throws -> T

  /// The checkpoints of streams, kept with the models.
  func checkpoints() -> any CheckpointStore
}

extension ModelRegistry {
  /// Registers and activates a new version.
  public func register(_ model: NewModelVersion) throws(StoreError) -> ModelVersion {
    try register(model, activate: true, beforeCommit: nil)
  }

  /// Every version, by name and newest first.
  public func list() throws(StoreError) -> [ModelVersion] { try list(name: nil, kindPrefix: nil) }

  /// Every version of `name`, newest first.
  public func list(name: String) throws(StoreError) -> [ModelVersion] { try list(name: name, kindPrefix: nil) }

  /// Every version whose kind starts with `kindPrefix`.
  public func list(kindPrefix: String) throws(StoreError) -> [ModelVersion] {
    try list(name: nil, kindPrefix: kindPrefix)
  }

  /// One whole artifact part of a version.
  public func loadPart(_ name: String, version: Int, part: String) throws -> [UInt8] {
    try withArtifactReader(name, version: version) { try $0.readAll(part) }
  }
}

/// The activation that made a version active: changes whenever the active version of a name changes.
public struct Activation: Equatable, Sendable {
  /// The version it made active.
  public var version: Int
  /// Which activation it is (increasing; a rollback goes back to an earlier one).
  public var id: Int64

  public init(version: Int, id: Int64) {
    self.version = version
    self.id = id
  }
}

/// What a rollback did: the version left and the version active again.
public struct Rollback: Sendable, Equatable {
  public var from: ModelVersion
  public var to: ModelVersion

  public init(from: ModelVersion, to: ModelVersion) {
    self.from = from
    self.to = to
  }
}

/// Reads byte ranges of one model version's artifact parts, without loading the rest.
public protocol ArtifactReader {
  /// Whether the version has a part of this name.
  func has(_ part: String) throws -> Bool
  /// The size of `part` in bytes.
  func size(_ part: String) throws -> Int
  /// `length` bytes of `part` from `offset`.
  /// - Throws: `StoreError.noSuchPart`, `.rangeOutOfBounds`.
  func read(_ part: String, offset: Int, length: Int) throws -> [UInt8]
  /// `count` little-endian `Float`s of `part` from float index `offset`.
  func readFloats(_ part: String, offset: Int, count: Int) throws -> [Float]
  /// The names of the version's parts.
  func partNames() throws -> [String]
  /// Calls `body` with all of `part` as `Float`s; a reader holding the part in memory lends it without a copy.
  func withFloats<R>(_ part: String, _ body: (UnsafeBufferPointer<Float>) throws -> R) throws -> R
  /// Calls `body` with `length` bytes of `part` from `offset`; a reader holding the part in memory lends them without
  /// a copy.
  /// - Throws: `StoreError.noSuchPart`, `.rangeOutOfBounds`.
  func withBytes<R>(_ part: String, offset: Int, length: Int, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R
  /// Copies the whole of `part` (checked as every read is) into `destination`, which holds exactly `size(part)`
  /// bytes; a reader that fetches parts over a connection writes them there as they arrive, without a copy of its
  /// own.
  func copyWhole(_ part: String, into destination: UnsafeMutableRawBufferPointer) throws
}

extension ArtifactReader {
  /// The whole of `part`.
  public func readAll(_ part: String) throws -> [UInt8] { try read(part, offset: 0, length: try size(part)) }

  /// All of `part` as little-endian `Float`s.
  public func readAllFloats(_ part: String) throws -> [Float] {
    let size = try self.size(part)
    guard size % 4 == 0 else { throw StoreError.rangeOutOfBounds(part: part, offset: 0, length: size, size: size) }
    return try readFloats(part, offset: 0, count: size / 4)
  }

  /// `withBytes` by reading the range.
  public func withBytes<R>(
    _ part: String, offset: Int, length: Int, _ body: (UnsafeRawBufferPointer) throws -> R
  ) throws -> R {
    try read(part, offset: offset, length: length).withUnsafeBytes { try body($0) }
  }

  /// `copyWhole` through `withBytes`.
  public func copyWhole(_ part: String, into destination: UnsafeMutableRawBufferPointer) throws {
    let size = try self.size(part)
    guard destination.count == size else {
      throw StoreError.rangeOutOfBounds(part: part, offset: 0, length: destination.count, size: size)
    }
    guard size > 0 else { return }
    try withBytes(part, offset: 0, length: size) { destination.copyMemory(from: $0) }
  }

  /// `withFloats` by reading the part whole.
  public func withFloats<R>(_ part: String, _ body: (UnsafeBufferPointer<Float>) throws -> R) throws -> R {
    try readAllFloats(part).withUnsafeBufferPointer { try body($0) }
  }
}

/// Named checkpoints of stream state, each replaced atomically: a reader sees the previous checkpoint or
/// the new one, never a mix. A backend stores a checkpoint of any size (in pieces if it must).
public protocol CheckpointStore: AnyObject, Sendable {
  /// Replaces checkpoint `name` with `state` at `sequence`; `beforeCommit` is for crash tests.
  func save(_ name: String, sequence: Int, state: [UInt8], beforeCommit: (() -> Void)?) throws(StoreError)
  /// The latest checkpoint `name`, or `nil`.
  func load(_ name: String) throws(StoreError) -> Checkpoint?
  /// Deletes checkpoint `name`; returns whether there was one.
  @discardableResult
  func delete(_ name: String) throws(StoreError) -> Bool
}

extension CheckpointStore {
  /// Replaces checkpoint `name` with `state` at `sequence`.
  public func save(_ name: String, sequence: Int, state: [UInt8]) throws(StoreError) {
    try save(name, sequence: sequence, state: state, beforeCommit: nil)
  }
}

/// A named checkpoint of stream state: the state's bytes, how far the stream had got, and when.
public struct Checkpoint: Equatable, Sendable {
  /// The checkpoint's name (e.g. the fraud model's name).
  public var name: String
  /// A sequence number chosen by the writer, e.g. transactions processed so far.
  public var sequence: Int
  /// When it was written.
  public var createdAt: Date
  /// The serialized state.
  public var state: [UInt8]

  public init(name: String, sequence: Int, createdAt: Date, state: [UInt8]) {
    self.name = name
    self.sequence = sequence
    self.createdAt = createdAt
    self.state = state
  }
}
