import Prometheus
import Synchronization

/// The server's Prometheus metrics: requests by route and status, latency histograms by route, the model serving
/// (name and version), and model loads and load failures. `text()` is the `/metrics` body.
public final class ServiceMetrics: Sendable {
  let registry = PrometheusCollectorRegistry()
  /// Latency buckets, in seconds: 0.1 ms to 10 s.
  static let buckets: [Duration] = [
    .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2),
    .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
    .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(10),
  ]
  /// The version each model name serves (its gauge is set to 1; the previous one removed).
  private let serving = Mutex<[String: Gauge]>([:])

  public init() {}

  /// The request series made so far, by route, method and status (the routes' patterns bound their number).
  private let series = Mutex<[SeriesKey: (Counter, DurationHistogram)]>([:])

  struct SeriesKey: Hashable {
    var route: String
    var method: String
    var status: Int
  }

  /// Counts one request of `route` (the route's pattern, never the raw path) answered with `status`.
  func request(route: String, method: String, status: Int, duration: Duration) {
    let key = SeriesKey(route: route, method: method, status: status)
    let (counter, histogram) =
      series.withLock { $0[key] }
      ?? {
        let made = (
          registry.makeCounter(
            name: "commerceml_http_requests_total",
            labels: [("route", route), ("method", method), ("status", String(status))],
            help: "HTTP requests by route, method and status."),
          registry.makeDurationHistogram(
            name: "commerceml_http_request_duration_seconds", labels: [("route", route)], buckets: Self.buckets,
            help: "HTTP request latency by route.")
        )
        series.withLock { $0[key] = made }
        return made
      }()
    counter.increment()
    let (seconds, attoseconds) = duration.components
    histogram.recordNanoseconds(Int64(clamping: seconds &* 1_000_000_000 &+ attoseconds / 1_000_000_000))
  }

  func modelLoaded(name: String, version: Int, seconds: Double) {
    registry.makeCounter(
      name: "commerceml_model_loads_total", labels: [("model", name)], help: "Model versions loaded."
    )
    .increment()
    let gauge = registry.makeGauge(
      name: "commerceml_model_serving", labels: [("model", name), ("version", String(version))],
      help: "The model version serving (1).")
    gauge.set(1.0)
    let previous = serving.withLock { map -> Gauge? in
      let old = map[name]
      map[name] = gauge
      return old
    }
    if let previous, previous !== gauge { registry.unregisterGauge(previous) }
    registry.makeGauge(
      name: "commerceml_model_load_seconds", labels: [("model", name)], help: "Seconds the last model load took."
    ).set(seconds)
  }

  func modelLoadFailed(name: String) {
    registry.makeCounter(
      name: "commerceml_model_load_failures_total", labels: [("model", name)],
      help: "Model versions that failed to load (the previous one kept serving)."
    ).increment()
  }

  /// The Prometheus text exposition of every metric.
  public func text() -> String { registry.emitToString() }
}
