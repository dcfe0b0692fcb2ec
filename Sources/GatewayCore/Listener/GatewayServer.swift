import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOTLS
import ServiceLifecycle
import Synchronization

/// The gateway daemon's listeners: TLS in front, an optional redirect listener beside it.
///
/// Runs as a swift-service-lifecycle `Service` (SIGTERM/SIGINT shut it down), or is driven
/// directly with ``start()`` and ``shutdown()`` by tests.
public final class GatewayServer: Service, Sendable {
    /// Where the listeners ended up, after resolving port 0.
    public struct BoundAddresses: Sendable {
        public let tls: SocketAddress
        public let redirect: SocketAddress?
    }

    private let generations: ServingGenerations
    private let recorder: AuditRecorder
    /// The upstream targets' health: which ones new requests may go to.
    public let health: UpstreamHealth
    public let metrics: GatewayMetrics
    /// The last reload's outcome, which the reloader records.
    public let reloads = ReloadHistory()
    /// When this server was made: the process's uptime, near enough.
    public let startedAt = Date()
    private let requestMetrics: RequestMetricsByLoop
    private let group: any EventLoopGroup
    private let logger: Logger
    private let limiter: ConnectionLimiter
    private let heldBodyBudget: HeldBodyBudget
    private let listeners = Mutex<[any Channel]>([])
    private let notifier: SystemdNotifier
    /// Listening sockets handed over by systemd (socket activation): the TLS one, then the redirect one.
    private let inherited: [CInt]
    /// The process's descriptor limit that `max_connections` must fit in; `nil` for none.
    private let descriptorLimit: Int?

    /// Security decisions go to `recorder`, which must run in the same service group, as must
    /// `health` for targets to be probed (unprobed targets take requests). `notifier` tells systemd
    /// when the listeners are up and when shutdown begins. With a `descriptorLimit`, `max_connections`
    /// is lowered where it must be for the ``DescriptorBudget`` to fit in it.
    public init(
        runtime: GatewayRuntime, recorder: AuditRecorder, health: UpstreamHealth? = nil, metrics: GatewayMetrics = GatewayMetrics(),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger,
        notifier: SystemdNotifier = SystemdNotifier(environment: [:]), inheritedListeners: [CInt] = [], descriptorLimit: Int? = nil
    ) {
        let health = health ?? UpstreamHealth(upstreams: runtime.config.upstreams, group: group, logger: logger)
        self.notifier = notifier
        self.inherited = inheritedListeners
        self.health = health
        self.metrics = metrics
        self.requestMetrics = RequestMetricsByLoop(metrics, group: group)
        self.generations = ServingGenerations(runtime, health: health, group: group)
        self.recorder = recorder
        self.group = group
        self.logger = logger
        self.heldBodyBudget = HeldBodyBudget(limit: runtime.config.server.heldBodyBudget)
        self.descriptorLimit = descriptorLimit
        self.limiter = ConnectionLimiter(limit: .max) { metrics.connectionRefused($0) }
        applyConnectionLimits(runtime.config)
    }

    /// The descriptor budget of `config` under the process's limit, when there is one.
    private func budget(_ config: GatewayConfig) -> DescriptorBudget? {
        descriptorLimit.map {
            DescriptorBudget(limit: $0, config: config, eventLoops: group.makeIterator().reduce(0) { count, _ in count + 1 })
        }
    }

    /// `max_connections`, lowered to fit the descriptor budget, and `max_connections_per_client`.
    private func applyConnectionLimits(_ config: GatewayConfig) {
        var limit = config.server.maxConnections
        if let budget = budget(config), budget.lowersMaxConnections {
            limit = budget.maxConnections
            logger.warning(
                "max_connections lowered to fit the file descriptor limit",
                metadata: [
                    "gateway.max_connections": "\(budget.configuredMaxConnections)", "gateway.max_connections_in_force": "\(limit)",
                    "gateway.descriptors_needed": "\(budget.needed)", "gateway.descriptor_limit": "\(budget.limit)",
                ])
        }
        limiter.setLimit(limit, perClient: config.server.maxConnectionsPerClient)
    }

    /// The runtime in force.
    public var runtime: GatewayRuntime { generations.current.runtime }

    /// The config generation in force: 1 at start, one more for each applied reload.
    public var generation: Int { generations.current.number + 1 }

    /// Puts `runtime` in force: new connections get its certificate and connection settings, and
    /// every connection serves its next request under its routes and policies (a request under way
    /// finishes under the old ones). The listeners stay as they are, so `runtime` must listen where
    /// the old one did. The old generation's idle upstream connections are closed.
    public func replaceRuntime(_ runtime: GatewayRuntime) async {
        applyConnectionLimits(runtime.config)
        heldBodyBudget.setLimit(runtime.config.server.heldBodyBudget)
        try? await generations.replace(with: runtime).pools.shutdown()?.get()
    }

    /// Client connections open right now.
    public var openConnections: Int { limiter.openConnections }

    /// Client connections closed since start.
    public var closedConnections: Int { limiter.closedConnections }

    /// What `/metrics` reads from the running components when it is scraped.
    public var metricsReadings: GatewayMetrics.Readings {
        let limiter = runtime.rateLimiter
        return GatewayMetrics.Readings(
            openConnections: openConnections, auditQueueDepth: recorder.queueDepth, auditEventsDropped: recorder.droppedEvents,
            rateLimitKeys: limiter.count, rateLimitEvictions: limiter.evictions, heldBodyBytes: heldBodyBudget.heldBytes,
            heldBodyRefusals: heldBodyBudget.refusals, targets: health.targets, storeUp: !limiter.isStoreLost,
            storeFailures: limiter.storeFailures, loginFailingClients: runtime.loginGuard.counts.clients,
            listener: runtime.config.server.listen.description, certificates: runtime.certificates)
    }

    /// Binds every listener, or takes over the sockets systemd passed, and starts accepting.
    public func start() async throws -> BoundAddresses {
        let server = runtime.config.server
        let tlsChannel = try await bindTLS(inherited.first.map { .inherited($0) } ?? .address(server.listen))
        listeners.withLock { $0.append(tlsChannel) }
        var redirectAddress: SocketAddress?
        let redirectTarget = inherited.count > 1 ? ListenTarget.inherited(inherited[1]) : server.redirectHTTPListen.map { .address($0) }
        if let redirectTarget {
            let httpsPort = tlsChannel.localAddress?.port ?? server.listen.port
            let channel = try await bindRedirect(redirectTarget, httpsPort: httpsPort, host: server.listen.host)
            listeners.withLock { $0.append(channel) }
            redirectAddress = channel.localAddress
        }
        let bound = BoundAddresses(tls: tlsChannel.localAddress!, redirect: redirectAddress)
        logger.info(
            "gateway listening",
            metadata: [
                "gateway.listen": "\(Self.display(bound.tls))",
                "gateway.redirect_listen": "\(bound.redirect.map(Self.display) ?? "off")",
            ])
        return bound
    }

    /// `127.0.0.1:8443` or `[::1]:8443`.
    static func display(_ address: SocketAddress) -> String {
        HostPort(host: address.ipAddress ?? "?", port: address.port ?? 0).description
    }

    /// Stops accepting, lets requests in flight finish (closing each connection after its current
    /// response, idle ones at once), then closes idle upstream connections. Once this returns, no
    /// request is handled any more, so nothing more is recorded.
    public func shutdown() async throws {
        let channels = listeners.withLock { channels in
            defer { channels.removeAll() }
            return channels
        }
        for channel in channels { try? await channel.close() }
        let generation = generations.current
        await limiter.drain(timeout: generation.runtime.config.server.drainTimeout)
        try await generation.pools.shutdown()?.get()
    }

    /// Runs until graceful shutdown is requested: `READY=1` once listening, `STOPPING=1` when the
    /// drain begins (the store was opened before the server starts).
    public func run() async throws {
        _ = try await start()
        notifier.notify("READY=1\nSTATUS=serving")
        try? await gracefulShutdown()
        notifier.notify("STOPPING=1\nSTATUS=draining")
        try await shutdown()
    }

    /// Where a listener comes from: an address to bind, or a socket systemd already bound.
    enum ListenTarget {
        case address(HostPort)
        case inherited(CInt)

        func listen(_ bootstrap: ServerBootstrap) async throws -> any Channel {
            switch self {
            case .address(let address): try await bootstrap.bind(host: address.host, port: address.port).get()
            case .inherited(let descriptor): try await bootstrap.withBoundSocket(descriptor).get()
            }
        }
    }

    private func bindTLS(_ target: ListenTarget) async throws -> any Channel {
        let limiter = self.limiter
        let metrics = self.metrics
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(limiter) }
            }
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let generation = self.generations.current
                    let runtime = generation.runtime
                    let server = runtime.config.server
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(NIOSSLServerHandler(context: runtime.tlsContext), name: TLSCloser.tlsHandlerName)
                    try sync.addHandler(TLSCloser(lingerTimeout: TimeAmount(server.idleTimeout)))
                    try sync.addHandler(TLSHandshakeCounter(metrics))
                    try sync.addHandler(HandshakeAcknowledger())
                    try sync.addHandler(
                        ConnectionTimeoutHandler(
                            headerTimeout: TimeAmount(server.requestHeaderTimeout), idleTimeout: TimeAmount(server.idleTimeout)))
                    try sync.addHandler(
                        ApplicationProtocolNegotiationHandler { result, channel in
                            channel.eventLoop.makeCompletedFuture {
                                if case .negotiated(TLSContextFactory.ApplicationProtocol.http2) = result, server.http2 {
                                    try self.configureHTTP2(channel, generation: generation)
                                } else {
                                    try self.configureHTTP1(channel, generation: generation)
                                }
                            }
                        })
                }
            }
        return try await target.listen(bootstrap)
    }

    /// HTTP/1.1 (chosen by ALPN, or no ALPN at all): NIO's codec with pipelining assistance, then the proxy.
    private func configureHTTP1(_ channel: any Channel, generation: ServingGeneration) throws {
        let sync = channel.pipeline.syncOperations
        try sync.configureHTTPServerPipeline(
            withPipeliningAssistance: true, withErrorHandling: false,
            withEncoderConfiguration: .init(), withDecoderLimitConfiguration: Self.decoderLimits(generation.runtime.config.server))
        try sync.addHandler(proxyHandler(on: channel, generation: generation, clientProtocol: .http1))
    }

    /// HTTP/2 (ALPN `h2`): each stream is one request through the same proxy, under the generation
    /// in force when the stream opens; the connection keeps its TLS settings and limits.
    private func configureHTTP2(_ channel: any Channel, generation: ServingGeneration) throws {
        let generations = self.generations
        try HTTP2Connection.configure(
            channel, server: generation.runtime.config.server, reloaded: { generations.replacing(generation.number) != nil }
        ) { stream in
            self.proxyHandler(on: stream, generation: generations.current, clientProtocol: .http2)
        }
    }

    private func proxyHandler(on channel: any Channel, generation: ServingGeneration, clientProtocol: ClientProtocol) -> ProxyHandler {
        ProxyHandler(
            generations: generations, generation: generation, eventLoop: channel.eventLoop, recorder: recorder,
            metrics: requestMetrics.metrics(on: channel.eventLoop)!, heldBodyBudget: heldBodyBudget, logger: logger,
            clientProtocol: clientProtocol)
    }

    /// Header limits for the decoder: the configured header bytes, plus room for the longest target.
    static func decoderLimits(_ server: ServerConfig) -> NIOHTTPDecoderLimitConfiguration {
        var limits = NIOHTTPDecoderLimitConfiguration()
        limits.maxHeaderFieldSize = server.maxHeaderBytes + RequestAdmission.maximumTargetBytes
        limits.maxHeaderListSize = server.maxHeaderBytes + RequestAdmission.maximumTargetBytes
        return limits
    }

    private func bindRedirect(_ target: ListenTarget, httpsPort: Int, host: String) async throws -> any Channel {
        let logger = self.logger
        let bootstrap = PlainHTTPListener.bootstrap(group: group, limiter: limiter, server: runtime.config.server) {
            // The generation in force when the connection opens: a reload changes acme_challenge_dir.
            let challenges = self.runtime.config.server.acmeChallengeDir.map(ACMEChallengeDirectory.init)
            return RedirectHandler(httpsPort: httpsPort, fallbackHost: host, challenges: challenges, logger: logger)
        }
        return try await target.listen(bootstrap)
    }
}
