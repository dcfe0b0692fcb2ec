import Logging
import NIOCore

extension ProxyHandler {
    /// Records that the upstream broke off a response whose head the client already has: the
    /// access log line and `gateway_requests_total` say `aborted_upstream`, a warning names the
    /// upstream, its target and the bytes the client got, and an `upstream_error` event is audited.
    func recordUpstreamAbort(_ abort: ProxyStateMachine.UpstreamAbort, upstream: String?, target: String?) {
        record?.abortedByUpstream = true
        let reason =
            switch abort {
            case .closed: "upstream connection ended (closed or failed) before the end of its response"
            case .stalled: "upstream sent nothing for idle_timeout before the end of its response"
            }
        logger.warning(
            "upstream response aborted",
            metadata: [
                "gateway.request_id": "\(record?.requestID ?? request?.id ?? "-")", "gateway.upstream": "\(upstream ?? "-")",
                "gateway.target": "\(target ?? "-")", "gateway.bytes_out": "\(record?.bytesOut ?? 0)", "gateway.reason": "\(reason)",
            ])
        audit(.upstreamError, reason: reason, status: record?.status)
    }
}
