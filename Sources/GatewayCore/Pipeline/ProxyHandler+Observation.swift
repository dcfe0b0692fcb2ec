import Logging
import NIOCore
import NIOHTTP1

/// What the access log line and the request metrics measure of one request, beside what its
/// ``RequestContext`` says (there is none for bytes that could not be parsed as a request).
struct RequestRecord {
    let requestID: String
    let started: NIODeadline
    /// The status answered; `nil` until a response head is written.
    var status: Int?
    var bytesIn: Int64 = 0
    var bytesOut = 0
    /// From the first connection attempt to the end of the upstream's response.
    var upstreamNanoseconds: Int64?
    /// The upstream broke off the response after its head was written (closed, or stalled).
    var abortedByUpstream = false

    /// The outcome as the access log and `gateway_requests_total` name it: the status answered,
    /// `aborted` when the connection ended before a response head, `aborted_upstream` when the
    /// upstream broke off a response it had started.
    var statusLabel: String {
        if abortedByUpstream { return "aborted_upstream" }
        return status.map(String.init) ?? "aborted"
    }
}

extension ProxyHandler {
    func startRecord(requestID: String) {
        record = RequestRecord(requestID: requestID, started: .now())
    }

    /// Counts, and audits where they say so, the decisions of the policies that let a request through.
    func observeAdmission(_ request: RequestContext) {
        for decision in request.decisions {
            switch decision {
            case .rateLimitCounted(let shadowRefusals):
                metrics.shared.rateLimit(.allowed)
                if !shadowRefusals.isEmpty { metrics.shared.rateLimit(.shadowRefused, count: shadowRefusals.count) }
                for refusal in shadowRefusals where refusal.audited { audit(.rateLimited, reason: refusal.reason, status: nil) }
            case .corsWithheld(let reason):
                metrics.shared.corsRefused(enforced: false)
                audit(.corsRejected, reason: reason, status: nil)
            }
        }
    }

    /// Ends the request's record: counts it and writes its access log line under its
    /// ``RequestRecord/statusLabel``.
    func completeRecord() {
        guard let record else { return }
        let request = self.request
        (self.record, self.request) = (nil, nil)
        let elapsed = (NIODeadline.now() - record.started).nanoseconds
        let route = request?.route?.prefix ?? "none"
        metrics.request(route: route, status: record.statusLabel, nanoseconds: elapsed)
        guard runtime.config.log.access, logger.logLevel <= .info else { return }
        let head = request?.head
        var line: Logger.Metadata = [
            "gateway.request_id": "\(record.requestID)",
            "gateway.client": "\(request?.client ?? runtime.headerRules.clientAddress(peer: context.channel.remoteAddress, headers: [:]))",
            "gateway.method": "\(head?.method.rawValue ?? "-")",
            "gateway.protocol": "\(head.map { "\($0.version)" } ?? "-")",
            "gateway.path": "\(head.map { Self.auditedPath($0.uri) } ?? "-")",
            "gateway.route": "\(route)",
            "gateway.status": "\(record.statusLabel)",
            "gateway.duration_ms": "\(Self.milliseconds(elapsed))",
            "gateway.bytes_in": "\(record.bytesIn)",
            "gateway.bytes_out": "\(record.bytesOut)",
        ]
        if let upstream = record.upstreamNanoseconds { line["gateway.upstream_ms"] = "\(Self.milliseconds(upstream))" }
        if record.abortedByUpstream, let status = record.status { line["gateway.upstream_status"] = "\(status)" }
        if let subject = request?.identity?.subject { line["gateway.subject"] = "\(subject)" }
        logger.info("request", metadata: line)
    }

    /// `12.345`: milliseconds with three decimals.
    static func milliseconds(_ nanoseconds: Int64) -> String {
        let micros = nanoseconds / 1_000
        let fraction = String(micros % 1_000)
        return "\(micros / 1_000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }
}
