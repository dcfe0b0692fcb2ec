import NIOCore
import NIOHTTP1
import NIOPosix

/// Keep-alive connections to one upstream target, owned by one event loop.
///
/// Every method runs on that loop, so the pool needs no lock: a client connection only ever
/// borrows upstream connections from the pool of its own loop.
final class UpstreamPool {
    let config: UpstreamConfig
    let health: TargetHealth
    let eventLoop: any EventLoop
    private var idle: [UpstreamConnection] = []
    private var isShutDown = false

    init(config: UpstreamConfig, health: TargetHealth, eventLoop: any EventLoop) {
        self.config = config
        self.health = health
        self.eventLoop = eventLoop
    }

    /// An idle connection that is still alive, if there is one.
    func takeIdle() -> UpstreamConnection? {
        while let connection = idle.popLast() {
            if connection.isActive { return connection }
        }
        return nil
    }

    /// Returns a connection whose last exchange ended cleanly; closes it when the pool is full.
    func release(_ connection: UpstreamConnection) {
        eventLoop.preconditionInEventLoop()
        connection.sink = nil
        guard !isShutDown, connection.isActive, idle.count < config.maxIdleConnections else {
            connection.abandon()
            return
        }
        connection.resumeReads()
        idle.append(connection)
    }

    /// Closes every idle connection and refuses to keep more.
    func shutdown() {
        eventLoop.preconditionInEventLoop()
        isShutDown = true
        let closing = idle
        idle.removeAll()
        for connection in closing { connection.abandon() }
    }

    /// A new connection to the target.
    func connect() -> EventLoopFuture<UpstreamConnection>.Isolated {
        let address = health.address
        return ClientBootstrap(group: eventLoop)
            .connectTimeout(TimeAmount(config.connectTimeout))
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(UpstreamConnection())
                }
            }
            .connect(host: address.host, port: address.port)
            .assumeIsolated()
            .flatMapThrowing { [weak self] channel in
                let connection = try channel.pipeline.syncOperations.handler(type: UpstreamConnection.self)
                connection.onClose = { closed in self?.forget(closed) }
                return connection
            }
    }

    private func forget(_ connection: UpstreamConnection) {
        idle.removeAll { $0 === connection }
    }
}

/// The targets of one upstream on one event loop, taken in turn: round-robin over those whose
/// health checks pass. Loop-confined like its pools.
final class UpstreamBalancer {
    let name: String
    let pools: [UpstreamPool]
    /// The upstream's request slots, shared with its balancers on the other loops.
    let slots: UpstreamSlots
    private var next = 0

    init(config: UpstreamConfig, targets: [TargetHealth], slots: UpstreamSlots, eventLoop: any EventLoop) {
        self.name = config.name
        self.pools = targets.map { UpstreamPool(config: config, health: $0, eventLoop: eventLoop) }
        self.slots = slots
    }

    /// The next target taking requests that is not in `tried`; `nil` when there is none.
    func pick(excluding tried: [UpstreamPool] = []) -> UpstreamPool? {
        for offset in 0..<pools.count {
            let pool = pools[(next + offset) % pools.count]
            guard pool.health.takesRequests, !tried.contains(where: { $0 === pool }) else { continue }
            next = (next + offset + 1) % pools.count
            return pool
        }
        return nil
    }
}

/// The balancers of every upstream for every event loop of the group, built once per runtime, and
/// each upstream's request slots. A reload starts new slots: requests still under the old config
/// finish holding the old ones.
final class UpstreamPools: @unchecked Sendable {
    // Safe: the dictionaries are immutable after init, and each balancer is only touched on its own loop.
    private let byLoop: [ObjectIdentifier: [String: UpstreamBalancer]]

    init(upstreams: [UpstreamConfig], health: UpstreamHealth, group: any EventLoopGroup) {
        let slots = Dictionary(
            uniqueKeysWithValues: upstreams.map { ($0.name, UpstreamSlots(limit: $0.maxConnections, queueTimeout: $0.queueTimeout)) })
        var byLoop: [ObjectIdentifier: [String: UpstreamBalancer]] = [:]
        for loop in group.makeIterator() {
            var balancers: [String: UpstreamBalancer] = [:]
            for upstream in upstreams {
                balancers[upstream.name] = UpstreamBalancer(
                    config: upstream, targets: health.targets(of: upstream.name), slots: slots[upstream.name]!, eventLoop: loop)
            }
            byLoop[ObjectIdentifier(loop)] = balancers
        }
        self.byLoop = byLoop
    }

    /// The balancer for `upstream` owned by `loop`; call on `loop`.
    func balancer(_ upstream: String, on loop: any EventLoop) -> UpstreamBalancer? {
        byLoop[ObjectIdentifier(loop)]?[upstream]
    }

    /// Closes every idle connection on every loop.
    func shutdown() -> EventLoopFuture<Void>? {
        let futures = byLoop.compactMap { key, balancers -> EventLoopFuture<Void>? in
            guard let loop = balancers.values.first?.pools.first?.eventLoop else { return nil }
            return loop.submit {
                for pool in self.byLoop[key]?.values.flatMap(\.pools) ?? [] { pool.shutdown() }
            }
        }
        guard let first = futures.first else { return nil }
        return EventLoopFuture.andAllSucceed(futures, on: first.eventLoop)
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
