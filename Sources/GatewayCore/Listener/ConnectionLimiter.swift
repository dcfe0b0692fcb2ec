import NIOCore
import Synchronization

/// Closes accepted connections beyond `max_connections`, and knows the open ones so that a
/// shutdown can drain them. Sits on the server channels; touched once per accept and close.
final class ConnectionLimiter: ChannelInboundHandler, Sendable {
    typealias InboundIn = any Channel
    typealias InboundOut = any Channel

    private let limit: Atomic<Int>
    private let open = Mutex<[ObjectIdentifier: any Channel]>([:])
    private let closed = Atomic<Int>(0)

    init(limit: Int) { self.limit = Atomic(limit) }

    /// Takes up a reloaded `max_connections`; connections over a lowered limit stay open.
    func setLimit(_ limit: Int) { self.limit.store(limit, ordering: .relaxed) }

    /// Connections currently open.
    var openConnections: Int { open.withLock { $0.count } }

    /// Connections closed since start, refused ones included.
    var closedConnections: Int { closed.load(ordering: .relaxed) }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let child = unwrapInboundIn(data)
        let id = ObjectIdentifier(child)
        let limit = limit.load(ordering: .relaxed)
        let admitted = open.withLock { channels in
            guard channels.count < limit else { return false }
            channels[id] = child
            return true
        }
        guard admitted else {
            child.close(promise: nil)
            closed.add(1, ordering: .relaxed)
            return
        }
        child.closeFuture.whenComplete { _ in
            self.open.withLock { _ = $0.removeValue(forKey: id) }
            self.closed.add(1, ordering: .relaxed)
        }
        context.fireChannelRead(data)
    }

    /// Asks every open connection to finish its current request and close (idle ones close at
    /// once), then waits for them, at most `timeout`; whatever is still open then is closed.
    func drain(timeout: Duration) async {
        let channels = open.withLock { Array($0.values) }
        for channel in channels {
            channel.eventLoop.execute { channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent()) }
        }
        let deadline = ContinuousClock.now + timeout
        while openConnections > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        for channel in open.withLock({ Array($0.values) }) { try? await channel.close() }
    }
}
