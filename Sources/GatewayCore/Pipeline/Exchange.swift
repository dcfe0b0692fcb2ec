import NIOCore
import NIOHTTP1

/// The upstream side of one forwarded request: its slot at the upstream, the target it goes to, its
/// leased connection and its response timer. How far the request has got is ``ProxyStateMachine``'s; what it is and what
/// the policies decided, its ``RequestContext``. Owned by ``ProxyHandler`` and confined to its event loop.
final class Exchange {
    /// The ``ProxyStateMachine`` number of the exchange, to match late callbacks against.
    let number: Int
    /// The upstream's targets on this loop, and the one this request goes to.
    let balancer: UpstreamBalancer
    private(set) var pool: UpstreamPool
    /// Targets that refused a connection for this request.
    private var refusedTargets: [UpstreamPool] = []
    private(set) var connection: UpstreamConnection?
    private var responseDeadline: Scheduled<Void>?
    /// When the first connection attempt began, for the upstream duration.
    private(set) var started: NIODeadline?
    /// Whether the exchange holds one of the upstream's request slots, given back when it ends.
    private var holdsSlot = false
    private var isFinished = false

    init(number: Int, balancer: UpstreamBalancer, pool: UpstreamPool) {
        self.number = number
        self.balancer = balancer
        self.pool = pool
    }

    /// Whether the upstream is not taking more request bytes.
    var isUpstreamBacklogged: Bool { connection.map { !$0.isWritable } ?? false }

    /// Takes one of the upstream's request slots: `nil` when the exchange holds one now, else a
    /// future for its turn in line. A slot that comes after the exchange ended goes back.
    func takeSlot(on loop: any EventLoop) -> EventLoopFuture<Void>.Isolated? {
        if holdsSlot { return nil }
        guard let turn = balancer.slots.acquire(on: loop) else {
            holdsSlot = true
            return nil
        }
        return turn.assumeIsolated().map {
            if self.isFinished { self.balancer.slots.release() } else { self.holdsSlot = true }
        }
    }

    /// An idle connection from the current target's pool, when it has one alive.
    func takeIdleConnection() -> UpstreamConnection? {
        if started == nil { started = .now() }
        return pool.takeIdle()
    }

    /// A new connection to the current target.
    func connect() -> EventLoopFuture<UpstreamConnection>.Isolated {
        if started == nil { started = .now() }
        return pool.connect()
    }

    /// After a failed connect (nothing was sent): moves to another target taking requests that has
    /// not refused this request yet; false when there is none.
    func failOver() -> Bool {
        refusedTargets.append(pool)
        guard let next = balancer.pick(excluding: refusedTargets) else { return false }
        pool = next
        return true
    }

    func attach(_ connection: UpstreamConnection, sink: any UpstreamResponseSink, parts: [HTTPClientRequestPart]) {
        self.connection = connection
        connection.sink = sink
        for part in parts { connection.write(part) }
        connection.flush()
    }

    /// Starts `response_timeout` (again).
    func armResponseDeadline(on loop: any EventLoop, _ timedOut: @escaping () -> Void) {
        responseDeadline?.cancel()
        responseDeadline = loop.assumeIsolated().scheduleTask(in: TimeAmount(pool.config.responseTimeout), timedOut)
    }

    func cancelResponseDeadline() {
        responseDeadline?.cancel()
        responseDeadline = nil
    }

    /// Forgets the connection without closing it (it closed itself).
    func detach() {
        connection?.sink = nil
        connection = nil
    }

    /// The exchange is over: the connection goes back to the pool when `keep`, else it is closed;
    /// the slot goes back.
    func finish(keepConnection keep: Bool) {
        cancelResponseDeadline()
        isFinished = true
        if holdsSlot {
            holdsSlot = false
            balancer.slots.release()
        }
        guard let connection else { return }
        detach()
        if keep { pool.release(connection) } else { connection.abandon() }
    }
}
