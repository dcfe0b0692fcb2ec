import NIOCore
import NIOHTTP1

/// One request being forwarded: its upstream lease and how far each direction has got. What the
/// request is and what the policies decided is its ``RequestContext``.
/// Owned by ``ProxyHandler`` and confined to its event loop.
final class Exchange {
    /// The head sent upstream (again, on a retry).
    let upstreamHead: HTTPRequestHead
    /// The upstream's targets on this loop, and the one this request goes to.
    let balancer: UpstreamBalancer
    var pool: UpstreamPool
    /// Targets that refused a connection for this request.
    private var refusedTargets: [UpstreamPool] = []
    let maxBodyBytes: Int64
    /// Set when the route checks the whole body (login, JSON validation): it is held here and sent
    /// only once it is checked.
    let heldBody: HeldBody?
    var clientKeepAlive: Bool

    private(set) var upstream: UpstreamConnection?
    private var reusedConnection = false
    /// The pending parts went upstream: a later connection is a retry that resends head and end.
    private var sentPending = false
    /// Request parts that arrived while the upstream connection was being set up.
    private var pending: [HTTPClientRequestPart] = []
    private var pendingBytes = 0
    /// The request was sent again once, after a reused connection closed under it.
    var retried = false
    var receivedBodyBytes: Int64 = 0
    var requestComplete = false
    var responseStarted = false
    var upstreamKeepAlive = false
    var responseDeadline: Scheduled<Void>?
    /// When the first connection attempt began, for the upstream duration.
    var upstreamStarted: NIODeadline?

    /// Bytes buffered while connecting before client reads are held.
    private static let pendingLimit = 64 * 1024

    init(
        upstreamHead: HTTPRequestHead, clientKeepAlive: Bool, balancer: UpstreamBalancer, pool: UpstreamPool, maxBodyBytes: Int64,
        heldBody: HeldBody? = nil
    ) {
        self.upstreamHead = upstreamHead
        self.clientKeepAlive = clientKeepAlive
        self.balancer = balancer
        self.pool = pool
        self.maxBodyBytes = maxBodyBytes
        self.heldBody = heldBody
        pending.append(.head(upstreamHead))
    }

    /// True when the client should not be read from: the upstream is not taking data.
    var isUpstreamBacklogged: Bool {
        if let upstream { return !upstream.isWritable }
        return pendingBytes >= Self.pendingLimit
    }

    /// A retry is safe only for an idempotent request without a body, on a reused connection
    /// (which the upstream may have closed while idle), before any response byte.
    var mayRetry: Bool {
        reusedConnection && !retried && !responseStarted && requestComplete
            && receivedBodyBytes == 0 && Self.isIdempotent(upstreamHead.method)
    }

    private static func isIdempotent(_ method: HTTPMethod) -> Bool {
        switch method {
        case .GET, .HEAD, .OPTIONS, .PUT, .DELETE, .TRACE: true
        default: false
        }
    }

    func attach(_ connection: UpstreamConnection, reused: Bool, sink: any UpstreamResponseSink) {
        upstream = connection
        reusedConnection = reused
        connection.sink = sink
        if sentPending {
            // A retry: only body-less, complete requests are retried, so head and end are all there is.
            connection.write(.head(upstreamHead))
            connection.write(.end(nil))
        } else {
            for part in pending { connection.write(part) }
            pending.removeAll()
            pendingBytes = 0
            sentPending = true
        }
        connection.flush()
    }

    /// After a failed connect (nothing was sent): another target taking requests that has not
    /// refused this request yet, if any.
    func failOver() -> UpstreamPool? {
        refusedTargets.append(pool)
        return balancer.pick(excluding: refusedTargets)
    }

    /// Sends a request part upstream, or keeps it until the connection is there.
    func send(_ part: HTTPClientRequestPart) {
        if let upstream {
            upstream.write(part)
            return
        }
        pending.append(part)
        if case .body(.byteBuffer(let buffer)) = part { pendingBytes += buffer.readableBytes }
    }

    /// Forgets the upstream connection without closing it.
    func detach() {
        upstream?.sink = nil
        upstream = nil
    }

    /// Closes the upstream connection: it is mid-exchange and cannot be reused.
    func abandon() {
        responseDeadline?.cancel()
        upstream?.abandon()
        upstream = nil
    }
}

/// A request body held whole, up to a limit, until it is checked.
final class HeldBody {
    let limit: Int
    private(set) var bytes = ByteBuffer()

    init(limit: Int) {
        self.limit = limit
    }

    /// Adds a part; false when that makes the body larger than `limit`.
    func append(_ part: ByteBuffer) -> Bool {
        guard bytes.readableBytes + part.readableBytes <= limit else { return false }
        bytes.writeImmutableBuffer(part)
        return true
    }
}
