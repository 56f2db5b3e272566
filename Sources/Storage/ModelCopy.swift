/// What `copyVersions` did with one version.
public struct CopiedVersion: Equatable, Sendable {
  public enum Outcome: String, Sendable {
    /// Registered in the target with the same number and fields.
    case copied
    /// The target already held this version (same kind, data fingerprint and creation time): left as it is.
    case alreadyThere = "already there"
  }
  public var version: Int
  public var outcome: Outcome
}

extension ModelRegistry {
  /// Copies versions of `name` (all of them, oldest first, or only `version`) into `target`, keeping each one's
  /// number, kind, parameters, metrics, data fingerprint, code version, creation time and artifact parts (read
  /// through this registry's checksums, so a damaged part is not copied). When this registry's active version is
  /// among those copied, it becomes active in the target too; other versions are registered inactive.
  ///
  /// Re-running a copy is safe: a version the target already holds with the same fields is left alone.
  /// - Throws: `StoreError.invalidArgument` when the target holds a different version under the same number, and the
  ///   stores' own errors.
  public func copyVersions(_ name: String, version: Int? = nil, to target: any ModelRegistry) throws
    -> [CopiedVersion]
  {
    let versions = try version.map { [try self.version(name, $0)] } ?? list(name: name).reversed()
    guard !versions.isEmpty else { throw StoreError.noModel(name: name) }
    let existing = Dictionary(
      uniqueKeysWithValues: (try? target.list(name: name))?.map { ($0.version, $0) } ?? [])
    var done: [CopiedVersion] = []
    for v in versions {
      if let there = existing[v.version] {
        guard there.kind == v.kind, there.dataHash == v.dataHash, there.createdAt == v.createdAt else {
          throw StoreError.invalidArgument(
            "\(target.location) already holds a different version \(v.version) of '\(name)' (\(there.kind), created \(there.createdAt)); nothing of it was copied"
          )
        }
        done.append(CopiedVersion(version: v.version, outcome: .alreadyThere))
        continue
      }
      let parts = try withArtifactReader(name, version: v.version) { reader in
        var parts: [String: [UInt8]] = [:]
        for part in try reader.partNames() { parts[part] = try reader.readAll(part) }
        return parts
      }
      var copy = NewModelVersion(
        name: name, kind: v.kind, parameters: v.parameters, metrics: v.metrics, dataBytes: v.dataBytes,
        dataHash: v.dataHash, parts: parts)
      copy.requestedVersion = v.version
      copy.codeVersion = v.codeVersion
      copy.createdAt = v.createdAt
      _ = try target.register(copy, activate: false, beforeCommit: nil)
      done.append(CopiedVersion(version: v.version, outcome: .copied))
    }
    if let active = versions.first(where: \.isActive) { try target.promote(name, version: active.version) }
    return done
  }
}
