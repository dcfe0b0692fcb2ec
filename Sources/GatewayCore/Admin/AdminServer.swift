import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// The operators' HTTP listener (see ``AdminEndpoints``), as `gateway limits show|reset` do from
/// the store. Only loopback and `[admin] allowed_clients` may use it.
///
/// It parses requests as the TLS listener does (NIO's HTTP/1 codec, then the same head checks) and
/// is bounded as it is: `[server] request_header_timeout` and `idle_timeout`, at most `[admin]
/// max_connections` open connections (more are closed on accept) and a small body limit, so that
/// it can never take the descriptors the data plane needs.
public enum AdminServer {
    /// The listener as a service, `nil` when `[admin] listen` is not set. `readings` is called on
    /// each scrape of `/metrics`; `server`, when given, is what `/status` shows. `onListening` gets
    /// the bound port.
    public static func make(
        config: GatewayConfig, rateLimiter: RateLimiter, store: any GatewayStore, readiness: Readiness, metrics: GatewayMetrics,
        readings: @escaping @Sendable () -> GatewayMetrics.Readings, server: GatewayServer? = nil, logger: Logger,
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> (any Service)? {
        guard let listen = config.admin.listen else { return nil }
        let endpoints = AdminEndpoints(
            filter: ClientFilter(allowed: AdminConfig.loopback + config.admin.allowedClients), server: config.server,
            readiness: readiness, metrics: metrics, readings: readings,
            limits: LimitsEndpoint(policies: RateLimitPolicy.all(in: config), limiter: rateLimiter, store: store, logger: logger),
            status: server.map { StatusPage(server: $0, store: store, readings: readings, admin: listen) })
        return AdminListener(
            listen: listen, config: config, endpoints: endpoints, metrics: metrics, logger: logger, onListening: onListening)
    }
}

/// Binds the admin listener, serves until graceful shutdown, then closes it and drains its
/// connections.
final class AdminListener: Service, Sendable {
    private let listen: HostPort
    private let server: ServerConfig
    private let endpoints: AdminEndpoints
    private let limiter: ConnectionLimiter
    private let logger: Logger
    private let onListening: @Sendable (Int) async -> Void

    init(
        listen: HostPort, config: GatewayConfig, endpoints: AdminEndpoints, metrics: GatewayMetrics, logger: Logger,
        onListening: @escaping @Sendable (Int) async -> Void
    ) {
        self.listen = listen
        self.server = config.server
        self.endpoints = endpoints
        self.limiter = ConnectionLimiter(limit: config.admin.maxConnections, totalRefusal: .adminMaxConnections) {
            metrics.connectionRefused($0)
        }
        self.logger = logger
        self.onListening = onListening
    }

    func run() async throws {
        let channel = try await bind()
        let port = channel.localAddress?.port ?? listen.port
        logger.info("admin listening", metadata: ["gateway.listen": "\(HostPort(host: listen.host, port: port))"])
        await onListening(port)
        await withDiscardingTaskGroup { group in
            if let status = endpoints.status { group.addTask { await status.sampleTraffic() } }
            try? await gracefulShutdown()
            group.cancelAll()
        }
        try? await channel.close()
        await limiter.drain(timeout: server.drainTimeout)
    }

    private func bind() async throws -> any Channel {
        let endpoints = endpoints
        let bootstrap = PlainHTTPListener.bootstrap(group: MultiThreadedEventLoopGroup.singleton, limiter: limiter, server: server) {
            AdminHandler(endpoints: endpoints)
        }
        return try await bootstrap.bind(host: listen.host, port: listen.port).get()
    }
}
