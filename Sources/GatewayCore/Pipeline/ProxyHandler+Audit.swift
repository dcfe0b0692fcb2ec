import Logging
import NIOCore
import NIOHTTP1

extension ProxyHandler {
    /// Longest path kept in an audit event; the query is never kept (it may carry credentials).
    static let auditedPathBytes = 512
    /// Events about a presented token: they carry its fingerprint.
    private static let tokenEvents: Set<AuditEventType> = [.authMissing, .authInvalid, .authExpired, .authRevoked]

    /// Records the security decision behind `problem`, if it is one. Never blocks: the recorder
    /// only queues the event.
    func audit(_ problem: GatewayProblem) {
        guard let type = problem.auditType else { return }
        audit(type, reason: problem.auditReason, status: Int(problem.status.code), subject: problem.auditSubject)
    }

    /// Records a security decision about the current request; `status` is `nil` when the request
    /// goes on (a shadow rate policy's refusal).
    func audit(_ type: AuditEventType, reason: String, status: Int?, subject: String? = nil) {
        let request = self.request
        let head = request?.head
        let event = AuditEvent(
            time: runtime.now(), type: type, requestID: record?.requestID ?? request?.id,
            client: request?.client ?? runtime.headerRules.clientAddress(peer: context.channel.remoteAddress, headers: [:]),
            route: request?.route?.prefix, method: head?.method.rawValue, path: head.map { Self.auditedPath($0.uri) },
            subject: subject ?? request?.identity?.subject, reason: reason, status: status,
            tokenFingerprint: Self.tokenEvents.contains(type)
                ? head.flatMap { AuthPolicy.bearerToken($0.headers) }.map(AuditEvent.fingerprint) : nil)
        recorder.record(event)
        guard logger.logLevel <= .warning else { return }
        var metadata: Logger.Metadata = [
            "gateway.event": "\(type.rawValue)", "gateway.reason": "\(reason)", "gateway.request_id": "\(event.requestID ?? "-")",
            "gateway.client": "\(event.client ?? "-")",
        ]
        if let status { metadata["gateway.status"] = "\(status)" }
        if let route = event.route { metadata["gateway.route"] = "\(route)" }
        if let fingerprint = event.tokenFingerprint { metadata["gateway.token_fingerprint"] = "\(fingerprint)" }
        logger.warning("security event", metadata: metadata)
    }

    /// The path as the client sent it, without the query and cut to ``auditedPathBytes``; `-` for a
    /// target that is not a path (absolute form, which may carry user information, or `*`).
    static func auditedPath(_ uri: String) -> String {
        guard uri.hasPrefix("/") else { return "-" }
        let path = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        return String(decoding: path.utf8.prefix(auditedPathBytes), as: UTF8.self)
    }
}
