import NIOCore
import Synchronization

/// Closes accepted connections beyond `max_connections`, or beyond `max_connections_per_client`
/// from one peer address, and knows the open ones so that a shutdown can drain them. Sits on the
/// server channels; touched once per accept and close.
///
/// The per-address table holds only addresses with open connections: an entry goes when its last
/// connection closes, so it is bounded by the open connections.
final class ConnectionLimiter: ChannelInboundHandler, Sendable {
    typealias InboundIn = any Channel
    typealias InboundOut = any Channel

    /// Why a connection was closed on accept, the `reason` of `gateway_connections_refused_total`.
    enum Refusal: String, CaseIterable, Sendable {
        /// `[server] max_connections` (TLS and redirect listeners together).
        case maxConnections = "max_connections"
        /// `[server] max_connections_per_client`.
        case maxConnectionsPerClient = "max_connections_per_client"
        /// `[admin] max_connections`.
        case adminMaxConnections = "admin_max_connections"
    }

    private struct Table {
        var limit: Int
        var perClientLimit: Int
        var channels: [ObjectIdentifier: any Channel] = [:]
        var perClient: [String: Int] = [:]
    }

    private let table: Mutex<Table>
    private let closed = Atomic<Int>(0)
    private let totalRefusal: Refusal
    private let refused: (@Sendable (Refusal) -> Void)?

    /// `limit` open connections at most, `perClient` of them from one address; a refusal of the
    /// total is counted as `totalRefusal` and each refusal is reported to `refused`.
    init(
        limit: Int, perClient: Int = .max, totalRefusal: Refusal = .maxConnections, refused: (@Sendable (Refusal) -> Void)? = nil
    ) {
        self.table = Mutex(Table(limit: limit, perClientLimit: perClient))
        self.totalRefusal = totalRefusal
        self.refused = refused
    }

    /// Takes up a reloaded `max_connections`; connections over a lowered limit stay open.
    func setLimit(_ limit: Int, perClient: Int = .max) {
        table.withLock { table in
            table.limit = limit
            table.perClientLimit = perClient
        }
    }

    /// Connections currently open.
    var openConnections: Int { table.withLock { $0.channels.count } }

    /// Addresses with connections currently open.
    var openClients: Int { table.withLock { $0.perClient.count } }

    /// Connections closed since start, refused ones included.
    var closedConnections: Int { closed.load(ordering: .relaxed) }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let child = unwrapInboundIn(data)
        let id = ObjectIdentifier(child)
        let client = child.remoteAddress?.ipAddress ?? ""
        let refusal: Refusal? = table.withLock { table in
            guard table.channels.count < table.limit else { return totalRefusal }
            let fromClient = table.perClient[client, default: 0]
            guard fromClient < table.perClientLimit else { return .maxConnectionsPerClient }
            table.channels[id] = child
            table.perClient[client] = fromClient + 1
            return nil
        }
        if let refusal {
            child.close(promise: nil)
            closed.add(1, ordering: .relaxed)
            refused?(refusal)
            return
        }
        child.closeFuture.whenComplete { _ in
            self.table.withLock { table in
                table.channels.removeValue(forKey: id)
                let left = table.perClient[client, default: 1] - 1
                table.perClient[client] = left > 0 ? left : nil
            }
            self.closed.add(1, ordering: .relaxed)
        }
        context.fireChannelRead(data)
    }

    /// Asks every open connection to finish its current request and close (idle ones close at
    /// once), then waits for them, at most `timeout`; whatever is still open then is closed.
    func drain(timeout: Duration) async {
        let channels = table.withLock { Array($0.channels.values) }
        for channel in channels {
            channel.eventLoop.execute { channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent()) }
        }
        let deadline = ContinuousClock.now + timeout
        while openConnections > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        for channel in table.withLock({ Array($0.channels.values) }) { try? await channel.close() }
    }
}
