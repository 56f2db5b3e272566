import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A minimal HTTP/1.1 client over one loopback connection that pipelines: a thread writes every request while the
/// caller reads the answers in order. One connection keeps the server's arrival order, which is what a stateful
/// server's tests compare against a stream; pipelining keeps 100,000 requests quick.
struct PipelinedHTTP {
  struct Answer {
    var status: Int
    var headers: [String: String]
    var body: Data
  }

  struct Failure: Error, CustomStringConvertible {
    var description: String
  }

  /// Sends `requests` (method, path, body) to `127.0.0.1:port`, returning the answers in order; fewer when the
  /// connection ends early (a killed server), never more.
  static func send(port: Int, _ requests: [(method: String, path: String, body: Data)]) throws -> [Answer] {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw Failure(description: "socket: \(errno)") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
    guard connected == 0 else { throw Failure(description: "connect: \(errno)") }
    signal(SIGPIPE, SIG_IGN)
    let writer = Thread {
      var pending = Data()
      for r in requests {
        pending.append(
          Data(
            "\(r.method) \(r.path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: \(r.body.count)\r\n\r\n"
              .utf8))
        pending.append(r.body)
        if pending.count > 1 << 16 {
          guard writeAll(fd, pending) else { return }
          pending.removeAll(keepingCapacity: true)
        }
      }
      _ = writeAll(fd, pending)
    }
    writer.start()
    var answers: [Answer] = []
    var buffer = [UInt8]()
    var start = 0
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    func fill() -> Bool {
      if start > 1 << 20 {
        buffer.removeFirst(start)
        start = 0
      }
      let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
      guard n > 0 else { return false }
      buffer.append(contentsOf: chunk[0..<n])
      return true
    }
    reading: while answers.count < requests.count {
      // The head, up to the blank line.
      var headEnd: Int? = nil
      while headEnd == nil {
        if buffer.count - start >= 4 {
          for i in start...(buffer.count - 4)
          where buffer[i] == 13 && buffer[i + 1] == 10 && buffer[i + 2] == 13 && buffer[i + 3] == 10 {
            headEnd = i
            break
          }
        }
        if headEnd == nil && !fill() { break reading }
      }
      let head = String(decoding: buffer[start..<headEnd!], as: UTF8.self)
      let lines = head.components(separatedBy: "\r\n")
      let status = Int(lines[0].split(separator: " ").dropFirst().first ?? "") ?? 0
      var headers: [String: String] = [:]
      for line in lines.dropFirst() {
        guard let colon = line.firstIndex(of: ":") else { continue }
        headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
      }
      let length = Int(headers["content-length"] ?? "0") ?? 0
      let bodyStart = headEnd! + 4
      while buffer.count - bodyStart < length {
        if !fill() { break reading }
      }
      answers.append(Answer(status: status, headers: headers, body: Data(buffer[bodyStart..<(bodyStart + length)])))
      start = bodyStart + length
    }
    shutdown(fd, Int32(SHUT_RDWR))
    while !writer.isFinished { usleep(1000) }
    return answers
  }

  private static func writeAll(_ fd: Int32, _ data: Data) -> Bool {
    data.withUnsafeBytes { raw in
      var at = 0
      while at < raw.count {
        let n = write(fd, raw.baseAddress! + at, raw.count - at)
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else { return false }
        at += n
      }
      return true
    }
  }
}
