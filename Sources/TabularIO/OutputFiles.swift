import CPlatform

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Where an output path leads.
enum OutputDestination: Equatable {
  /// A regular file, existing or to be created, at this path (symbolic links followed): written to a temporary
  /// file beside it and renamed over it when complete.
  case regularFile(String)
  /// Something that is not a regular file — a FIFO, a terminal, a device such as `/dev/null` or `/dev/stdout` —
  /// written through as it is, never replaced.
  case writeThrough
}

/// The rules every output file follows: atomic replacement of regular files only, write-through for the rest,
/// never onto an input, and no temporary file left behind when a signal stops the process.
public enum OutputFiles {
  /// Where writing to `path` leads.
  /// - Throws: `.usage` for an empty path; `.io` for a directory or a symbolic-link loop.
  static func destination(of path: String) throws(TabularError) -> OutputDestination {
    guard !path.isEmpty else { throw TabularError(.usage, file: "<output>", "the output path is empty") }
    var st = stat()
    if stat(path, &st) == 0 {
      switch st.st_mode & S_IFMT {
      case S_IFREG:
        var link = stat()
        guard lstat(path, &link) == 0, link.st_mode & S_IFMT == S_IFLNK else { return .regularFile(path) }
        guard let resolved = realpath(path, nil) else { return .regularFile(path) }
        defer { free(resolved) }
        return .regularFile(String(cString: resolved))
      case S_IFDIR:
        throw TabularError(.io, file: path, "is a directory; expected a file to write")
      default:
        return .writeThrough
      }
    }
    // Nothing there yet — or a symbolic link to nothing: create the file the link names.
    var current = path
    for _ in 0..<40 {
      var link = stat()
      guard lstat(current, &link) == 0, link.st_mode & S_IFMT == S_IFLNK else { return .regularFile(current) }
      var target = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
      let n = readlink(current, &target, target.count - 1)
      guard n > 0 else { return .regularFile(current) }
      let text = String(decoding: target[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
      if text.hasPrefix("/") {
        current = text
      } else if let slash = current.lastIndex(of: "/") {
        current = String(current[...slash]) + text
      } else {
        current = text
      }
    }
    throw TabularError(.io, file: path, "too many levels of symbolic links")
  }

  /// Refuses to write `output` when it is the same file as one of `inputs` or of the open `descriptors` (standard
  /// input, `0`, whose file the output would destroy before it is read; standard output, `1`, when another output
  /// goes there).
  /// - Throws: `.usage` naming the path.
  public static func refuseOverwriting(
    _ output: String, inputs: [String] = [], descriptors: [Int32] = []
  ) throws(TabularError) {
    guard !output.isEmpty else { throw TabularError(.usage, file: "<output>", "the output path is empty") }
    // By name first: an input that does not exist yet (a store's write-ahead log between two runs) must not be
    // created as an output either.
    if let name = resolvedName(output) {
      for input in inputs where resolvedName(input) == name {
        throw TabularError(.usage, file: output, "is also the input '\(input)'; write the output to another file")
      }
    }
    var out = stat()
    guard stat(output, &out) == 0, out.st_mode & S_IFMT == S_IFREG else { return }
    for input in inputs {
      var st = stat()
      if stat(input, &st) == 0 && st.st_dev == out.st_dev && st.st_ino == out.st_ino {
        throw TabularError(
          .usage, file: output, "is also the input '\(input)'; write the output to another file")
      }
    }
    for fd in descriptors {
      var st = stat()
      if fstat(fd, &st) == 0 && st.st_dev == out.st_dev && st.st_ino == out.st_ino {
        throw TabularError(
          .usage, file: output,
          "is also \(describe(descriptor: fd)); write it to another file")
      }
    }
  }

  /// The file open on `fd`, in words.
  static func describe(descriptor fd: Int32) -> String {
    switch fd {
    case 0: "the file read on standard input"
    case 1: "the file standard output goes to"
    case 2: "the file standard error goes to"
    default: "the file open on descriptor \(fd)"
    }
  }

  /// `path` with its directory resolved (symbolic links, `.`, `..`) and its last component kept, following a
  /// symbolic link at the end; `nil` when the directory does not exist.
  static func resolvedName(_ path: String) -> String? {
    var target = path
    if let linked = try? destination(of: path), case .regularFile(let resolved) = linked { target = resolved }
    let slash = target.lastIndex(of: "/")
    let directory = slash.map { $0 == target.startIndex ? "/" : String(target[..<$0]) } ?? "."
    let name = slash.map { String(target[target.index(after: $0)...]) } ?? target
    guard let real = realpath(directory, nil) else { return nil }
    defer { free(real) }
    let base = String(cString: real)
    return (base.hasSuffix("/") ? base : base + "/") + name
  }

  /// Remembers `path` as a temporary file to remove if SIGINT, SIGTERM or SIGHUP stops the process (once
  /// `installCleanupHandlers()` has run). Returns a token for `forgetTemporary`.
  public static func registerTemporary(_ path: String) -> Int32 { cml_temporary_register(path) }

  /// Forgets a temporary file registered with `registerTemporary` (renamed into place, or removed).
  public static func forgetTemporary(_ token: Int32) { cml_temporary_unregister(token) }

  /// Makes SIGINT, SIGTERM and SIGHUP remove every registered temporary file before ending the process by that
  /// signal. A command that handles these signals itself (a stream that stops cleanly) installs its handlers
  /// after this.
  public static func installCleanupHandlers() { cml_install_cleanup_handlers() }
}
