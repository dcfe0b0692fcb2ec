import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// The operators' HTTP listener: `GET /healthz` (alive); `GET /readyz` (200, or 503 naming each
/// failing check); `GET /metrics` (Prometheus text); `GET /limits?key=KEY` (a key's live counters)
/// and `POST /limits/reset?key=KEY` (its quotas back, recorded in the store and audited), as
/// `gateway limits show|reset` do from the store. Only loopback and `[admin] allowed_clients` may use it.
///
/// Hummingbird serves it: it is off the data plane and far from its hot path.
public enum AdminServer {
    /// The listener as a service, `nil` when `[admin] listen` is not set. `readings` is called on
    /// each scrape of `/metrics`. `onListening` gets the bound port.
    public static func make(
        config: GatewayConfig, rateLimiter: RateLimiter, store: any GatewayStore, readiness: Readiness, metrics: GatewayMetrics,
        readings: @escaping @Sendable () -> GatewayMetrics.Readings, logger: Logger,
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> (any Service)? {
        guard let listen = config.admin.listen else { return nil }
        let router = Router(context: AdminRequestContext.self)
        router.add(middleware: ClientFilter(allowed: AdminConfig.loopback + config.admin.allowedClients))
        router.get("healthz") { _, _ in "ok\n" }
        router.get("readyz") { _, _ in
            let problems = await readiness.problems()
            let body = problems.isEmpty ? "ready\n" : problems.map { $0 + "\n" }.joined()
            return Response(
                status: problems.isEmpty ? .ok : .serviceUnavailable, headers: [.contentType: "text/plain; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
        }
        router.get("metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.exposition(readings()))))
        }
        let limits = LimitsEndpoint(policies: RateLimitPolicy.all(in: config), limiter: rateLimiter, store: store)
        router.get("limits") { request, _ in try limits.show(request) }
        router.post("limits/reset") { request, _ in try await limits.reset(request) }
        return Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname(listen.host, port: listen.port), serverName: nil),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? listen.port
                logger.info("admin listening", metadata: ["gateway.listen": "\(listen.host):\(port)"])
                await onListening(port)
            },
            logger: logger)
    }
}

/// A request to the admin listener, with the address it came from.
struct AdminRequestContext: Hummingbird.RequestContext {
    var coreContext: CoreRequestContextStorage
    let remoteAddress: SocketAddress?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}

/// 403 for clients outside loopback and the allowed networks, and for what a browser sends on a
/// web page's behalf: any request with `Origin` (a cross-site form posting a reset), and any `Host`
/// that is not an address or `localhost` (DNS rebinding).
struct ClientFilter: RouterMiddleware {
    let allowed: [CIDR]

    func handle(
        _ request: Request, context: AdminRequestContext, next: (Request, AdminRequestContext) async throws -> Response
    ) async throws -> Response {
        guard Self.admits(context.remoteAddress, allowed: allowed) else {
            throw HTTPError(.forbidden, message: "This client may not use the admin listener.")
        }
        guard request.headers[.origin] == nil, Self.isDirectHost(request.head.authority) else {
            throw HTTPError(.forbidden, message: "The admin listener takes no requests from web pages.")
        }
        return try await next(request, context)
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

    private func key(_ request: Request) throws -> String {
        guard let input = request.uri.queryParameters["key"].map(String.init), let key = RateLimitKeying.counterKey(operatorInput: input)
        else {
            throw HTTPError(.badRequest, message: "?key= must be ip:ADDRESS, sub:SUBJECT[@ISSUER], header:NAME=VALUE or claim:NAME=VALUE.")
        }
        return key
    }

    func show(_ request: Request) throws -> Response {
        let key = try key(request)
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
        return try Self.json(["key": key, "counters": items])
    }

    func reset(_ request: Request) async throws -> Response {
        let key = try key(request)
        limiter.reset(key: key)
        let now = Date()
        let deleted = try await store.resetRateLimits(key: key, at: now)
        try await store.appendAudit([
            AuditEvent(time: now, type: .rateLimitReset, reason: "counters of \(key) reset by operator (admin listener)")
        ])
        return try Self.json(["key": key, "stored_counters_deleted": deleted])
    }

    private static func json(_ object: [String: Any]) throws -> Response {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return Response(
            status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}
