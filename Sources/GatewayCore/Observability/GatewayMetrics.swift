import Foundation
import Metrics
import NIOCore
import Prometheus
import Synchronization

/// The gateway's metrics, recorded through swift-metrics into a Prometheus registry of its own and
/// served by the admin listener's `/metrics`.
///
/// The request path touches only counters (atomic adds) and histograms (one short lock each);
/// series whose labels vary per request are looked up in a cache per event loop
/// (``RequestMetrics``). Gauges that mirror other components' state are read at scrape time.
public final class GatewayMetrics: Sendable {
    /// What other components know, read when `/metrics` is scraped.
    public struct Readings: Sendable {
        public var openConnections: Int
        public var auditQueueDepth: Int
        public var auditEventsDropped: Int
        public var rateLimitKeys: Int
        public var rateLimitEvictions: Int
        /// Request body bytes held in memory right now, over every connection.
        public var heldBodyBytes: Int
        /// Requests refused since start because holding their body would go beyond the budget.
        public var heldBodyRefusals: Int
        public var targets: [TargetHealth]
        /// Whether the last write of the rate limit counters to the store succeeded.
        public var storeUp: Bool
        /// Writes to the store that failed, since start.
        public var storeFailures: Int
        /// Clients the login guard counts failures of, within its window.
        public var loginFailingClients: Int
        /// The TLS listener's address, and the certificates it serves.
        public var listener: String
        public var certificates: [CertificateInUse]

        public init(
            openConnections: Int, auditQueueDepth: Int, auditEventsDropped: Int, rateLimitKeys: Int, rateLimitEvictions: Int,
            heldBodyBytes: Int = 0, heldBodyRefusals: Int = 0, targets: [TargetHealth], storeUp: Bool = true, storeFailures: Int = 0,
            loginFailingClients: Int = 0, listener: String = "", certificates: [CertificateInUse] = []
        ) {
            self.loginFailingClients = loginFailingClients
            self.listener = listener
            self.certificates = certificates
            self.storeUp = storeUp
            self.storeFailures = storeFailures
            self.openConnections = openConnections
            self.auditQueueDepth = auditQueueDepth
            self.auditEventsDropped = auditEventsDropped
            self.rateLimitKeys = rateLimitKeys
            self.rateLimitEvictions = rateLimitEvictions
            self.heldBodyBytes = heldBodyBytes
            self.heldBodyRefusals = heldBodyRefusals
            self.targets = targets
        }
    }

    /// Rate limit outcomes counted per request.
    enum RateLimitDecision: String, CaseIterable {
        case allowed
        case refused
        /// A shadow policy would have refused; the request went on.
        case shadowRefused = "shadow_refused"
    }

    let registry = PrometheusCollectorRegistry()
    let factory: PrometheusMetricsFactory
    let tlsHandshakes: Metrics.Counter
    let tlsHandshakeFailures: Metrics.Counter
    private let reloadsApplied: Metrics.Counter
    private let reloadsRejected: Metrics.Counter
    private let rateLimitDecisions: [RateLimitDecision: Metrics.Counter]
    private let corsRefusedEnforced: Metrics.Counter
    private let corsHeadersWithheld: Metrics.Counter
    /// Auth failures by reason: a token check's audit type, or `login_locked`.
    private let authFailures: [String: Metrics.Counter]
    private let openConnections: Metrics.Meter
    private let auditQueueDepth: Metrics.Meter
    private let rateLimitKeys: Metrics.Meter
    private let heldBodyBytes: Metrics.Meter
    private let heldBodyRefusals: Metrics.Counter
    private let auditEventsDropped: Metrics.Counter
    private let connectionsRefused: [ConnectionLimiter.Refusal: Metrics.Counter]
    private let rateLimitEvictions: Metrics.Counter
    private let storeUp: Metrics.Meter
    private let storeFailures: Metrics.Counter
    private let loginFailures: Metrics.Counter
    private let loginFailingClients: Metrics.Meter
    /// The totals kept elsewhere that the last scrape added, so the next adds only the difference.
    private let mirrored = Mutex((auditEventsDropped: 0, rateLimitEvictions: 0, heldBodyRefusals: 0, storeFailures: 0))
    /// `gateway_upstream_target_up` by upstream and target, so a reload's removed targets lose their series.
    private let targetGauges = Mutex<[String: Metrics.Meter]>([:])
    /// `gateway_tls_certificate_expiry_timestamp_seconds` by listener and name, so a reload's
    /// replaced certificates lose their series.
    private let certificateGauges = Mutex<[String: Metrics.Meter]>([:])

    /// Reasons auth failures are counted under.
    static let authFailureReasons: [String] =
        [AuditEventType.authMissing, .authInvalid, .authExpired, .authRevoked, .scopeDenied].map(\.rawValue) + ["login_locked"]

    public init() {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .milliseconds(1), .microseconds(2500), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
            .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .microseconds(2_500_000), .seconds(5),
            .seconds(10), .seconds(30),
        ]
        self.factory = factory
        tlsHandshakes = Metrics.Counter(label: "gateway_tls_handshakes_total", dimensions: [("result", "ok")], factory: factory)
        tlsHandshakeFailures = Metrics.Counter(label: "gateway_tls_handshakes_total", dimensions: [("result", "failed")], factory: factory)
        reloadsApplied = Metrics.Counter(label: "gateway_reloads_total", dimensions: [("result", "applied")], factory: factory)
        reloadsRejected = Metrics.Counter(label: "gateway_reloads_total", dimensions: [("result", "rejected")], factory: factory)
        rateLimitDecisions = Dictionary(
            uniqueKeysWithValues: RateLimitDecision.allCases.map {
                (
                    $0,
                    Metrics.Counter(label: "gateway_rate_limit_decisions_total", dimensions: [("decision", $0.rawValue)], factory: factory)
                )
            })
        corsRefusedEnforced = Metrics.Counter(label: "gateway_cors_refusals_total", dimensions: [("action", "refused")], factory: factory)
        corsHeadersWithheld = Metrics.Counter(
            label: "gateway_cors_refusals_total", dimensions: [("action", "headers_withheld")], factory: factory)
        authFailures = Dictionary(
            uniqueKeysWithValues: Self.authFailureReasons.map {
                ($0, Metrics.Counter(label: "gateway_auth_failures_total", dimensions: [("reason", $0)], factory: factory))
            })
        openConnections = Metrics.Meter(label: "gateway_open_connections", factory: factory)
        auditQueueDepth = Metrics.Meter(label: "gateway_audit_queue_depth", factory: factory)
        rateLimitKeys = Metrics.Meter(label: "gateway_rate_limit_keys", factory: factory)
        auditEventsDropped = Metrics.Counter(label: "gateway_audit_events_dropped_total", factory: factory)
        rateLimitEvictions = Metrics.Counter(label: "gateway_rate_limit_evictions_total", factory: factory)
        heldBodyBytes = Metrics.Meter(label: "gateway_held_body_bytes", factory: factory)
        heldBodyRefusals = Metrics.Counter(label: "gateway_held_body_refusals_total", factory: factory)
        storeUp = Metrics.Meter(label: "gateway_store_up", factory: factory)
        storeFailures = Metrics.Counter(label: "gateway_store_failures_total", factory: factory)
        loginFailures = Metrics.Counter(label: "gateway_login_failures_total", factory: factory)
        loginFailingClients = Metrics.Meter(label: "gateway_login_failing_clients", factory: factory)
        connectionsRefused = Dictionary(
            uniqueKeysWithValues: ConnectionLimiter.Refusal.allCases.map {
                ($0, Metrics.Counter(label: "gateway_connections_refused_total", dimensions: [("reason", $0.rawValue)], factory: factory))
            })
    }

    /// Counts a connection closed on accept, and which limit it was over.
    func connectionRefused(_ reason: ConnectionLimiter.Refusal) {
        connectionsRefused[reason]?.increment()
    }

    /// Counts a config reload and whether it was applied.
    public func reloaded(applied: Bool) {
        (applied ? reloadsApplied : reloadsRejected).increment()
    }

    /// Counts a login attempt the upstream answered 401.
    func loginFailed() {
        loginFailures.increment()
    }

    func rateLimit(_ decision: RateLimitDecision, count: Int = 1) {
        rateLimitDecisions[decision]?.increment(by: count)
    }

    func corsRefused(enforced: Bool) {
        (enforced ? corsRefusedEnforced : corsHeadersWithheld).increment()
    }

    /// Counts what a refusal of the gateway's own says about authentication, rate limits and CORS.
    func refused(_ problem: GatewayProblem) {
        switch problem.code {
        case "rate_limited": rateLimit(.refused)
        case "cors_rejected": corsRefused(enforced: true)
        case "login_locked": authFailures["login_locked"]?.increment()
        default:
            if let type = problem.auditType { authFailures[type.rawValue]?.increment() }
        }
    }

    /// Sets one gauge per element of `values` in `gauges`, registering new ones with `dimensions`,
    /// and destroys the gauges of elements gone since the last call.
    private func publish<Element>(
        _ values: [Element], in gauges: borrowing Mutex<[String: Metrics.Meter]>, label: String,
        dimensions: (Element) -> [(String, String)], value: (Element) -> Double
    ) {
        let factory = self.factory
        gauges.withLock { gauges in
            var current: [String: Metrics.Meter] = [:]
            for element in values {
                let labels = dimensions(element)
                let key = labels.map { "\($0.0)=\($0.1)" }.joined(separator: " ")
                let gauge = gauges[key] ?? Metrics.Meter(label: label, dimensions: labels, factory: factory)
                gauge.set(value(element))
                current[key] = gauge
            }
            for (key, gauge) in gauges where current[key] == nil { gauge.destroy() }
            gauges = current
        }
    }

    /// The Prometheus text exposition, after bringing the mirrored gauges and totals up to date.
    public func exposition(_ readings: Readings) -> [UInt8] {
        openConnections.set(readings.openConnections)
        auditQueueDepth.set(readings.auditQueueDepth)
        rateLimitKeys.set(readings.rateLimitKeys)
        heldBodyBytes.set(readings.heldBodyBytes)
        storeUp.set(readings.storeUp ? 1 : 0)
        let (dropped, evictions, refusals, failures) = mirrored.withLock { last in
            defer {
                last = (readings.auditEventsDropped, readings.rateLimitEvictions, readings.heldBodyRefusals, readings.storeFailures)
            }
            return (
                readings.auditEventsDropped - last.auditEventsDropped, readings.rateLimitEvictions - last.rateLimitEvictions,
                readings.heldBodyRefusals - last.heldBodyRefusals, readings.storeFailures - last.storeFailures
            )
        }
        if failures > 0 { storeFailures.increment(by: failures) }
        if dropped > 0 { auditEventsDropped.increment(by: dropped) }
        if evictions > 0 { rateLimitEvictions.increment(by: evictions) }
        if refusals > 0 { heldBodyRefusals.increment(by: refusals) }
        loginFailingClients.set(readings.loginFailingClients)
        publish(
            readings.targets, in: targetGauges, label: "gateway_upstream_target_up",
            dimensions: { [("upstream", $0.upstream), ("target", $0.address.description)] }, value: { $0.current == .up ? 1 : 0 })
        // Two certificates for one name (RSA and ECDSA, say): the one expiring first is the one to watch.
        let expiries = Dictionary(readings.certificates.map { ($0.name, $0.notValidAfter) }, uniquingKeysWith: min)
        publish(
            expiries.sorted { $0.key < $1.key }, in: certificateGauges, label: "gateway_tls_certificate_expiry_timestamp_seconds",
            dimensions: { [("listener", readings.listener), ("name", $0.key)] }, value: { $0.value.timeIntervalSince1970 })
        return registry.emitToBuffer()
    }
}

/// The per-request series of one event loop: requests by route and status, request durations
/// by route, upstream durations by upstream. Loop-confined, so its caches need no lock; a series is
/// registered once, on first use.
final class RequestMetrics {
    private struct RequestKey: Hashable {
        let route: String
        let status: String
    }

    let shared: GatewayMetrics
    private var requests: [RequestKey: Metrics.Counter] = [:]
    private var durations: [String: Metrics.Timer] = [:]
    private var upstreamDurations: [String: Metrics.Timer] = [:]

    init(_ shared: GatewayMetrics) { self.shared = shared }

    /// `route` is the matched prefix (`none` when no route matched); `status` the code answered,
    /// `aborted` when the connection ended before a response head, or `aborted_upstream` when the
    /// upstream broke off a response it had started.
    func request(route: String, status: String, nanoseconds: Int64) {
        let factory = shared.factory
        Self.cached(RequestKey(route: route, status: status), in: &requests) {
            Metrics.Counter(label: "gateway_requests_total", dimensions: [("route", route), ("status", status)], factory: factory)
        }.increment()
        Self.cached(route, in: &durations) {
            Metrics.Timer(label: "gateway_request_duration_seconds", dimensions: [("route", route)], factory: factory)
        }.recordNanoseconds(nanoseconds)
    }

    /// From the first attempt to connect until the upstream's response ended.
    func upstream(_ name: String, nanoseconds: Int64) {
        let factory = shared.factory
        Self.cached(name, in: &upstreamDurations) {
            Metrics.Timer(label: "gateway_upstream_duration_seconds", dimensions: [("upstream", name)], factory: factory)
        }.recordNanoseconds(nanoseconds)
    }

    /// The series under `key`, registered by `make` on first use.
    private static func cached<Key: Hashable, Series>(_ key: Key, in table: inout [Key: Series], make: () -> Series) -> Series {
        if let series = table[key] { return series }
        let series = make()
        table[key] = series
        return series
    }
}

/// One ``RequestMetrics`` per event loop of the group, built once at start.
final class RequestMetricsByLoop: @unchecked Sendable {
    // Safe: the dictionary is immutable after init, and each value is only touched on its own loop.
    private let byLoop: [ObjectIdentifier: RequestMetrics]

    init(_ metrics: GatewayMetrics, group: any EventLoopGroup) {
        var byLoop: [ObjectIdentifier: RequestMetrics] = [:]
        for loop in group.makeIterator() { byLoop[ObjectIdentifier(loop)] = RequestMetrics(metrics) }
        self.byLoop = byLoop
    }

    /// The metrics owned by `loop`; use them only on `loop`.
    func metrics(on loop: any EventLoop) -> RequestMetrics? { byLoop[ObjectIdentifier(loop)] }
}
