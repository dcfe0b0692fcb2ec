import Logging
import NIOCore
import NIOHTTP1

/// What the access log line and the request metrics say about one request.
struct RequestRecord {
    let requestID: String
    let started: NIODeadline
    /// `nil` when the request could not be parsed.
    let head: HTTPRequestHead?
    /// The matched route's prefix.
    var route: String?
    var subject: String?
    /// The status answered; `nil` until a response head is written.
    var status: Int?
    var bytesIn: Int64 = 0
    var bytesOut = 0
    /// From the first connection attempt to the end of the upstream's response.
    var upstreamNanoseconds: Int64?
}

extension ProxyHandler {
    func startRecord(requestID: String, head: HTTPRequestHead?) {
        record = RequestRecord(requestID: requestID, started: .now(), head: head)
    }

    /// Counts what the checks at the head decided for a request going upstream.
    func observeAdmission(_ admitted: AdmittedRequest) {
        record?.route = admitted.route.prefix
        record?.subject = admitted.identity?.subject
        if admitted.rateLimitCounted {
            metrics.shared.rateLimit(.allowed)
            if admitted.shadowRefusals > 0 { metrics.shared.rateLimit(.shadowRefused, count: admitted.shadowRefusals) }
        }
        if admitted.corsWithheld { metrics.shared.corsRefused(enforced: false) }
    }

    /// Ends the request's record: counts it and writes its access log line. A request whose
    /// connection ended before a response head counts as `aborted`.
    func completeRecord() {
        guard let record else { return }
        self.record = nil
        let elapsed = (NIODeadline.now() - record.started).nanoseconds
        let route = record.route ?? record.head.flatMap(routePrefix) ?? "none"
        metrics.request(route: route, status: record.status.map(String.init) ?? "aborted", nanoseconds: elapsed)
        guard runtime.config.log.access, logger.logLevel <= .info else { return }
        let head = record.head
        var line: Logger.Metadata = [
            "gateway.request_id": "\(record.requestID)",
            "gateway.client": "\(runtime.headerRules.clientAddress(peer: context.channel.remoteAddress, headers: head?.headers ?? [:]))",
            "gateway.method": "\(head?.method.rawValue ?? "-")",
            "gateway.protocol": "\(head.map { "\($0.version)" } ?? "-")",
            "gateway.path": "\(head.map { Self.auditedPath($0.uri) } ?? "-")",
            "gateway.route": "\(route)",
            "gateway.status": "\(record.status.map(String.init) ?? "aborted")",
            "gateway.duration_ms": "\(Self.milliseconds(elapsed))",
            "gateway.bytes_in": "\(record.bytesIn)",
            "gateway.bytes_out": "\(record.bytesOut)",
        ]
        if let upstream = record.upstreamNanoseconds { line["gateway.upstream_ms"] = "\(Self.milliseconds(upstream))" }
        if let subject = record.subject { line["gateway.subject"] = "\(subject)" }
        logger.info("request", metadata: line)
    }

    /// `12.345`: milliseconds with three decimals.
    static func milliseconds(_ nanoseconds: Int64) -> String {
        let micros = nanoseconds / 1_000
        let fraction = String(micros % 1_000)
        return "\(micros / 1_000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }
}
