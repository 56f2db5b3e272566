/// An error from the model store or the state store, naming the store file, model, version or part.
public enum StoreError: Error, Equatable, CustomStringConvertible, Sendable {
  /// No store file at the path (read-only commands do not create one).
  case storeNotFound(path: String)
  /// The file exists but is not a SQLite database, or not one of ours.
  case notAStore(path: String, reason: String)
  /// The store was written by a newer CommerceML whose schema this build does not know.
  case newerSchema(path: String)
  /// No model of this name has been registered.
  case noModel(name: String)
  /// The model exists but not this version.
  case noSuchVersion(name: String, version: Int)
  /// The model has versions but none is active (every activation was rolled back).
  case noActiveVersion(name: String)
  /// Rollback asked for, but there is no earlier activation to return to.
  case nothingToRollBack(name: String, version: Int)
  /// The version holds no artifact part of this name.
  case noSuchPart(name: String, version: Int, part: String)
  /// A byte range outside an artifact part.
  case rangeOutOfBounds(part: String, offset: Int, length: Int, size: Int)
  /// A part's bytes do not match the checksums recorded when the version was registered.
  case damagedPart(name: String, version: Int, part: String, offset: Int, length: Int)
  /// An argument that cannot be stored (an empty model name, a non-finite metric).
  case invalidArgument(String)
  /// The store cannot be written (or created) here: a read-only file, directory or mount, no space left, a
  /// missing directory. The reason says which; nothing is wrong with the store itself.
  case cannotWrite(path: String, reason: String)
  /// The store file exists but this user cannot read it.
  case unreadable(path: String, reason: String)
  /// SQLite failed; the message is SQLite's, with the path.
  case database(path: String, message: String)
  /// The store's library could not allocate the memory it needed (an address-space limit, no memory left):
  /// nothing is wrong with the store.
  case outOfMemory(path: String)
  /// A store read as immutable (by a user who may not take SQLite's locks beside a writer) changed while it was
  /// read: what was read may mix two states, so it is not used.
  case changedWhileRead(path: String)

  public var description: String {
    switch self {
    case .storeNotFound(let path): return "\(path): no model store here (train a model first)"
    case .notAStore(let path, let reason): return "\(path): not a CommerceML model store (\(reason))"
    case .newerSchema(let path):
      return "\(path): the store was written by a newer version of CommerceML; upgrade to read it"
    case .noModel(let name): return "no model named '\(name)' in the store"
    case .noSuchVersion(let name, let version): return "model '\(name)' has no version \(version)"
    case .noActiveVersion(let name):
      return "model '\(name)' has no active version (promote one with: models promote \(name) VERSION)"
    case .nothingToRollBack(let name, let version):
      return "model '\(name)' has no earlier active version to roll back to (version \(version) is the first)"
    case .noSuchPart(let name, let version, let part):
      return "model '\(name)' version \(version) has no artifact part '\(part)'"
    case .rangeOutOfBounds(let part, let offset, let length, let size):
      return "artifact part '\(part)': bytes \(offset)..<\(offset + length) are outside its \(size) bytes"
    case .damagedPart(let name, let version, let part, let offset, let length):
      return
        "model '\(name)' version \(version): the '\(part)' part is damaged (bytes \(offset)..<\(offset + length) do not match the checksum recorded at registration)"
    case .invalidArgument(let text): return text
    case .cannotWrite(let path, let reason): return "\(path): \(reason)"
    case .unreadable(let path, let reason): return "\(path): cannot read the store: \(reason)"
    case .database(let path, let message): return "\(path): \(message)"
    case .changedWhileRead(let path):
      return
        "\(path): the store changed while it was read (another process writes it, and this user, who may not write its directory, reads it without SQLite's locks): run the command again, or as a user who may write the store's directory"
    case .outOfMemory(let path):
      return
        "\(path): out of memory: the store could not allocate what it needed (the failed step changed nothing; raise the limit, ulimit -v, or free memory)"
    }
  }
}
