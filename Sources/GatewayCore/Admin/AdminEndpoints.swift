import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// An answer of the admin listener.
struct AdminResponse: Sendable {
    var status: HTTPResponseStatus
    var headers: [(String, String)]
    var body: [UInt8]
    /// Close the connection after it (the rest of the request was not read).
    var closesConnection = false

    static func text(_ status: HTTPResponseStatus, _ text: String, contentType: String = "text/plain; charset=utf-8") -> AdminResponse {
        AdminResponse(status: status, headers: [("Content-Type", contentType)], body: Array(text.utf8))
    }

    /// `problem` as problem+json, under a request id of its own.
    static func problem(_ problem: GatewayProblem) -> AdminResponse {
        let requestID = RequestID.generate()
        let body = problem.body(requestID: requestID, allocator: ByteBufferAllocator())
        return AdminResponse(
            status: problem.status,
            headers: [("Content-Type", "application/problem+json"), ("X-Request-ID", requestID)] + problem.headers,
            body: Array(body.readableBytesView), closesConnection: problem.closesConnection)
    }
}

/// A request head the admin listener accepted, waiting for the end of its body.
struct AdminRequest: Sendable {
    let method: HTTPMethod
    let target: PathNormalizer.Target
    let framing: BodyFraming
}

/// The admin listener's endpoints: `GET /healthz` (alive); `GET /readyz` (200, or 503 naming each
/// failing check); `GET /metrics` (Prometheus text); `GET /limits?key=KEY` (a key's live counters)
/// and `POST /limits/reset?key=KEY` (its quotas back, recorded in the store and audited);
/// `GET /status` (the operators' HTML page, ``StatusPage``).
struct AdminEndpoints: Sendable {
    /// What a request is answered with: at once, or by work off the event loop.
    enum Answer {
        case now(AdminResponse)
        case later(@Sendable () async -> AdminResponse)
    }

    let filter: ClientFilter
    let server: ServerConfig
    let readiness: Readiness
    let metrics: GatewayMetrics
    let readings: @Sendable () -> GatewayMetrics.Readings
    let limits: LimitsEndpoint
    /// `/status`; `nil` where no server runs beside the listener.
    let status: StatusPage?

    private static let routes: [String: HTTPMethod] = [
        "/healthz": .GET, "/readyz": .GET, "/metrics": .GET, "/limits": .GET, "/limits/reset": .POST, "/status": .GET,
    ]

    /// Admits a request head from `peer`: the clients' filter, then the checks the TLS listener
    /// applies too (one well-formed Host, an origin-form target, framing, sizes).
    func admit(_ head: HTTPRequestHead, peer: SocketAddress?) throws(GatewayProblem) -> AdminRequest {
        try filter.admitClient(peer)
        let checked = try RequestAdmission.check(head, server: server)
        try filter.admitRequest(head)
        if case .length(let length) = checked.framing, length > AdminConfig.maxBodyBytes { throw .bodyTooLarge }
        return AdminRequest(method: head.method, target: checked.target, framing: checked.framing)
    }

    /// The answer to `request`, once its body (which no endpoint reads) has arrived.
    func answer(_ request: AdminRequest) -> Answer {
        let path = request.target.path
        guard let method = Self.routes[path] else { return .now(.problem(.notFound)) }
        guard method == request.method else { return .now(.problem(.methodNotAllowed(allow: [method.rawValue]))) }
        switch path {
        case "/healthz":
            return .now(.text(.ok, "ok\n"))
        case "/readyz":
            let readiness = readiness
            return .later {
                let problems = await readiness.problems()
                return .text(
                    problems.isEmpty ? .ok : .serviceUnavailable, problems.isEmpty ? "ready\n" : problems.map { $0 + "\n" }.joined())
            }
        case "/metrics":
            return .now(
                AdminResponse(
                    status: .ok, headers: [("Content-Type", "text/plain; version=0.0.4; charset=utf-8")],
                    body: metrics.exposition(readings())))
        case "/limits":
            return .now(limits.show(request.target.query))
        case "/status":
            guard let status else { return .now(.problem(.notFound)) }
            return .later { await status.response() }
        default:
            let limits = limits
            let query = request.target.query
            return .later { await limits.reset(query) }
        }
    }
}

/// 403 for clients outside loopback and the allowed networks, and for what a browser sends on a
/// web page's behalf: any request with `Origin` (a cross-site form posting a reset), and any `Host`
/// that is not an address or `localhost` (DNS rebinding).
struct ClientFilter: Sendable {
    let allowed: [CIDR]

    func admitClient(_ peer: SocketAddress?) throws(GatewayProblem) {
        guard Self.admits(peer, allowed: allowed) else {
            throw GatewayProblem(.forbidden, "admin_forbidden", "This client may not use the admin listener.")
        }
    }

    func admitRequest(_ head: HTTPRequestHead) throws(GatewayProblem) {
        guard !head.headers.contains(name: "origin"), Self.isDirectHost(head.headers.first(name: "host")) else {
            throw GatewayProblem(.forbidden, "admin_forbidden", "The admin listener takes no requests from web pages.")
        }
    }

    /// `localhost` or an IP address, with or without a port.
    static func isDirectHost(_ authority: String?) -> Bool {
        guard let authority else { return true }
        var host = Substring(authority)
        if host.hasPrefix("["), let end = host.firstIndex(of: "]") {
            host = host[host.index(after: host.startIndex)..<end]
            return CIDR(String(host)) != nil
        }
        if let colon = host.lastIndex(of: ":") { host = host[..<colon] }
        return host.lowercased() == "localhost" || CIDR(String(host)) != nil
    }

    /// Whether a client at `peer` may use the listener; an unknown peer may not.
    static func admits(_ peer: SocketAddress?, allowed: [CIDR]) -> Bool {
        guard let peer else { return false }
        return allowed.contains { $0.contains(peer) }
    }
}

/// `/limits`: a key's counters, read live from the limiter, and their reset.
struct LimitsEndpoint: Sendable {
    let policies: [RateLimitPolicy]
    let limiter: RateLimiter
    let store: any GatewayStore
    let logger: Logger

    private static let badKey = GatewayProblem(
        .badRequest, "bad_key", "?key= must be ip:ADDRESS, sub:SUBJECT[@ISSUER], header:NAME=VALUE or claim:NAME=VALUE.")
    private static let failed = GatewayProblem(.internalServerError, "admin_failed", "The operation failed; the gateway's log says why.")

    /// The counter key named by `?key=` in `query`.
    static func key(_ query: String?) -> String? {
        for pair in (query ?? "").split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, parts[0] == "key" else { continue }
            return String(parts[1]).removingPercentEncoding.flatMap(RateLimitKeying.counterKey(operatorInput:))
        }
        return nil
    }

    func show(_ query: String?) -> AdminResponse {
        guard let key = Self.key(query) else { return .problem(Self.badKey) }
        let now = Date().rateLimitNanoseconds
        let tats = limiter.counters(key: key)
        var items: [[String: Any]] = []
        for policy in policies {
            let state = policy.state(tat: tats[policy.id] ?? 0, now: now)
            items.append([
                "policy": policy.id, "name": policy.name, "limit": policy.limit, "remaining": state.remaining,
                "full_in_seconds": RateLimitHeaders.seconds(state.fullIn),
            ])
        }
        return json(["key": key, "counters": items])
    }

    func reset(_ query: String?) async -> AdminResponse {
        guard let key = Self.key(query) else { return .problem(Self.badKey) }
        limiter.reset(key: key)
        let now = Date()
        do {
            let deleted = try await store.resetRateLimits(key: key, at: now)
            try await store.appendAudit([
                AuditEvent(time: now, type: .rateLimitReset, reason: "counters of \(key) reset by operator (admin listener)")
            ])
            return json(["key": key, "stored_counters_deleted": deleted])
        } catch {
            logger.error("admin: resetting rate limit counters failed", metadata: ["gateway.error": "\(error)"])
            return .problem(Self.failed)
        }
    }

    private func json(_ object: [String: Any]) -> AdminResponse {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return .problem(Self.failed) }
        return AdminResponse(status: .ok, headers: [("Content-Type", "application/json")], body: Array(data))
    }
}
