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
