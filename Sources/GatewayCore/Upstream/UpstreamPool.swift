import NIOCore
import NIOHTTP1
import NIOPosix

/// Keep-alive connections to one upstream, owned by one event loop.
///
/// Every method runs on that loop, so the pool needs no lock: a client connection only ever
/// borrows upstream connections from the pool of its own loop.
final class UpstreamPool {
    let config: UpstreamConfig
    let eventLoop: any EventLoop
    private var idle: [UpstreamConnection] = []
    private var isShutDown = false

    init(config: UpstreamConfig, eventLoop: any EventLoop) {
        self.config = config
        self.eventLoop = eventLoop
    }

    /// An idle connection when one is alive (`reused` true), else a new one.
    func acquire(allowReuse: Bool = true) -> EventLoopFuture<(connection: UpstreamConnection, reused: Bool)>.Isolated {
        let loop = eventLoop.assumeIsolated()
        if allowReuse {
            while let connection = idle.popLast() {
                if connection.isActive { return loop.makeSucceededFuture((connection, true)).assumeIsolated() }
            }
        }
        return connect().map { ($0, false) }
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

    private func connect() -> EventLoopFuture<UpstreamConnection>.Isolated {
        let address = config.address
        return ClientBootstrap(group: eventLoop)
            .connectTimeout(TimeAmount(config.connectTimeout))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
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

/// The pools of every upstream for every event loop of the group, built once at start.
final class UpstreamPools: @unchecked Sendable {
    // Safe: the dictionaries are immutable after init, and each pool is only touched on its own loop.
    private let byLoop: [ObjectIdentifier: [String: UpstreamPool]]

    init(upstreams: [UpstreamConfig], group: any EventLoopGroup) {
        var byLoop: [ObjectIdentifier: [String: UpstreamPool]] = [:]
        for loop in group.makeIterator() {
            var pools: [String: UpstreamPool] = [:]
            for upstream in upstreams { pools[upstream.name] = UpstreamPool(config: upstream, eventLoop: loop) }
            byLoop[ObjectIdentifier(loop)] = pools
        }
        self.byLoop = byLoop
    }

    /// The pool for `upstream` owned by `loop`; call on `loop`.
    func pool(_ upstream: String, on loop: any EventLoop) -> UpstreamPool? {
        byLoop[ObjectIdentifier(loop)]?[upstream]
    }

    /// Closes every idle connection on every loop.
    func shutdown() -> EventLoopFuture<Void>? {
        let futures = byLoop.compactMap { key, pools -> EventLoopFuture<Void>? in
            guard let loop = pools.values.first?.eventLoop else { return nil }
            return loop.submit { self.byLoop[key]?.values.forEach { $0.shutdown() } }
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
