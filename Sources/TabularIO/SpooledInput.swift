import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A file for commands that read their input more than once (a schema pass, then a fit; columns, then scores):
/// a regular file is used where it is, anything else — a pipe, `/dev/stdin`, a process substitution — is read once
/// into a temporary file, which is removed afterwards (and on SIGINT, SIGTERM, SIGHUP).
///
/// Errors that name the temporary file are given back naming the input as the user wrote it.
public enum SpooledInput {
  /// Calls `body` with a path to a regular file holding `path`'s bytes.
  /// - Throws: `.io` when `path` cannot be opened or read, or the copy cannot be written; `body`'s errors.
  public static func withRegularFile<T>(_ path: String, _ body: (String) throws -> T) throws -> T {
    var st = stat()
    if stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG { return try body(path) }
    guard stat(path, &st) == 0 || access(path, F_OK) == 0 else {
      throw TabularError(.io, file: path, "no such file")
    }
    let source = open(path, O_RDONLY | O_CLOEXEC)
    guard source >= 0 else {
      throw TabularError(.io, file: path, "cannot open for reading: \(String(cString: strerror(errno)))")
    }
    defer { close(source) }
    let directory = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
    var template = Array("\(directory)/commerceml-input-XXXXXX".utf8CString)
    let target = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
    guard target >= 0 else {
      throw TabularError(
        .io, file: path, "cannot make a temporary copy in \(directory): \(String(cString: strerror(errno)))")
    }
    let copy = String(cString: template)
    let token = OutputFiles.registerTemporary(copy)
    defer {
      unlink(copy)
      OutputFiles.forgetTemporary(token)
    }
    var buffer = [UInt8](repeating: 0, count: 1 << 20)
    while true {
      let n = buffer.withUnsafeMutableBytes { read(source, $0.baseAddress, $0.count) }
      if n < 0 && errno == EINTR { continue }
      if n < 0 {
        close(target)
        throw TabularError(.io, file: path, "cannot read: \(String(cString: strerror(errno)))")
      }
      if n == 0 { break }
      var written = 0
      while written < n {
        let w = buffer.withUnsafeBytes { write(target, $0.baseAddress! + written, n - written) }
        if w < 0 && errno == EINTR { continue }
        if w <= 0 {
          let reason = String(cString: strerror(errno))
          close(target)
          throw TabularError(.io, file: path, "cannot copy the input to \(directory): \(reason)")
        }
        written += w
      }
    }
    close(target)
    do {
      return try body(copy)
    } catch let error as TabularError where error.file == copy {
      throw TabularError(
        error.kind, file: path, line: error.line, column: error.column,
        error.message.replacingOccurrences(of: copy, with: path), cause: error.cause)
    }
  }
}
