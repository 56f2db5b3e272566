import Modeling
import TabularIO

extension SpooledInput {
  /// `withRegularFile(_:_:)` for a command: the domain's errors, like the reader's, name the input as the user
  /// gave it, never its temporary copy.
  public static func withInput<T>(_ path: String, _ body: (String) throws -> T) throws -> T {
    try withRegularFile(path) { copy in
      do {
        return try body(copy)
      } catch let error as CommerceError where copy != path {
        throw error.replacingText(copy, with: path)
      }
    }
  }
}

extension SpooledInput {
  /// `withInput` for an optional file: `body(nil)` without one.
  public static func withOptionalInput<T>(_ path: String?, _ body: (String?) throws -> T) throws -> T {
    guard let path else { return try body(nil) }
    return try withInput(path) { (copy: String) in try body(copy) }
  }
}
