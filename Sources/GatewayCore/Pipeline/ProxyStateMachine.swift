import NIOCore
import NIOHTTP1

/// The request path of one client connection as a value: ``ProxyHandler`` tells it what happened
/// (a part from the client or the upstream, a connection, a timeout, a close) and performs the
/// action it returns.
///
/// It does no I/O and reads no clock or policy: admission and the check of a held body are the
/// handler's, and their outcome comes back as an event. One request is handled at a time; a
/// pipelined request waits in the decoder until the answer before it has ended.
struct ProxyStateMachine {
    private enum State {
        /// Waiting for a request head.
        case idle
        /// A request is being forwarded and answered.
        case forwarding(Exchange)
        /// The gateway answered the request itself and is closing; remaining body parts are dropped.
        case discarding
        case closed
    }

    /// How far one forwarded request has got.
    private struct Exchange {
        /// Tells this exchange's late callbacks (a connection, a timeout) from a later one's.
        let number: Int
        /// What the upstream gets, sent again on a retry.
        let upstreamHead: HTTPRequestHead
        let maxBodyBytes: Int64
        /// Retrying is safe for this method (RFC 9110 §9.2.2).
        let isIdempotent: Bool
        /// The connection stays open for another request after this one.
        var keepAlive: Bool
        /// The body, held whole until it is checked, on a route that checks bodies.
        var heldBody: ByteBuffer?
        let heldBodyLimit: Int
        var upstream: UpstreamProgress
        var receivedBodyBytes: Int64 = 0
        var requestComplete = false
        var responseStarted = false
        var upstreamKeepAlive = false
        var retried = false
    }

    /// Where the exchange's upstream connection is.
    private enum UpstreamProgress {
        /// Not connected yet: the request parts wait here (a held body connects once checked).
        case waiting(parts: [HTTPClientRequestPart], bytes: Int)
        /// Connected; `reused` when the connection had served an earlier request.
        case connected(reused: Bool)
        /// Connecting again after a reused connection closed under a body-less request.
        case retrying
        /// Momentarily, while the waiting parts are appended to in place.
        case updating
    }

    /// What the handler does next.
    enum Action: Equatable {
        case none
        /// Ask the upstream's pool for a connection.
        case connect(allowReuse: Bool)
        /// A connection came for an exchange that is over: give it back.
        case releaseConnection
        /// Write these parts to the new connection and flush; start the response timeout when the
        /// request is whole; read from the client again if reads were held.
        case attach(parts: [HTTPClientRequestPart], armTimeout: Bool)
        /// Write a part to the upstream connection.
        case sendUpstream(HTTPClientRequestPart)
        /// Write the request's end to the upstream connection and flush; start the response timeout
        /// unless the response has started.
        case endRequest(armTimeout: Bool)
        /// The held body is whole: check it, and report with ``heldBodyChecked(refusal:)``.
        case checkHeldBody(ByteBuffer)
        /// Write the upstream's response head; `connection` is the `Connection` header it gets.
        case writeResponseHead(connection: ConnectionHeader)
        case writeResponseBody(ByteBuffer)
        /// The exchange is over: keep or close the upstream connection, write the end, then close
        /// the client connection or wait for its next request.
        case finish(keepUpstream: Bool, closeClient: Bool)
        /// Give up on the exchange (close the upstream connection), and answer `problem` unless a
        /// response was started, in which case the client connection just closes.
        case fail(GatewayProblem, answer: Bool)
        /// Try the same request again on a new connection.
        case retry
        /// The client is gone: close the upstream connection, if any.
        case abandonUpstream
        /// Close the client connection.
        case close
        /// The upstream broke off a response whose head the client already has: close both
        /// connections and record an upstream failure, not the status the head said.
        case upstreamAborted(UpstreamAbort)
    }

    /// How an upstream broke off a started response.
    enum UpstreamAbort: Equatable {
        /// Its connection closed (or failed: a malformed body, a reset) before the response's end.
        case closed
        /// It sent nothing for `idle_timeout` while it owed the rest of the response.
        case stalled
    }

    /// The `Connection` header of a forwarded answer.
    enum ConnectionHeader: Equatable {
        /// The upstream's, which the header rules drop: nothing is said (keep-alive is HTTP/1.1's default).
        case none
        case close
        /// HTTP/1.0 keep-alive has to be said.
        case keepAlive
    }

    /// Bytes buffered while connecting before client reads are held.
    static let waitingLimit = 64 * 1024

    private var state = State.idle
    private var exchanges = 0

    /// A request is being forwarded (as opposed to waiting, answered by the gateway or closed).
    var isForwarding: Bool {
        if case .forwarding = state { true } else { false }
    }

    /// The number of the exchange in progress, if any, to match later callbacks against.
    var exchangeNumber: Int? {
        if case .forwarding(let exchange) = state { exchange.number } else { nil }
    }

    /// Whether a response has started for the exchange in progress.
    var responseStarted: Bool {
        if case .forwarding(let exchange) = state { exchange.responseStarted } else { false }
    }

    /// Too many request bytes wait for an upstream connection: stop reading the client.
    var isWaitingBacklogFull: Bool {
        if case .forwarding(let exchange) = state, case .waiting(_, let bytes) = exchange.upstream {
            return bytes >= Self.waitingLimit
        }
        return false
    }

    /// Whether a head may start a new exchange now.
    var isIdle: Bool {
        if case .idle = state { true } else { false }
    }

    // MARK: Client events

    /// A request head was admitted for forwarding; `upstreamHead` is what the upstream gets.
    /// Returns the action; the exchange's number is ``exchangeNumber``.
    mutating func admitted(
        upstreamHead: HTTPRequestHead, keepAlive: Bool, maxBodyBytes: Int64, heldBodyLimit: Int?
    ) -> Action {
        guard case .idle = state else { return .none }
        exchanges += 1
        state = .forwarding(
            Exchange(
                number: exchanges, upstreamHead: upstreamHead, maxBodyBytes: maxBodyBytes,
                isIdempotent: Self.isIdempotent(upstreamHead.method), keepAlive: keepAlive,
                heldBody: heldBodyLimit.map { _ in ByteBuffer() }, heldBodyLimit: heldBodyLimit ?? 0,
                upstream: .waiting(parts: [.head(upstreamHead)], bytes: 0)))
        // A held body connects only once it is whole and checked.
        return heldBodyLimit == nil ? .connect(allowReuse: true) : .none
    }

    /// The gateway answers the request itself (a refusal, a preflight, a failed exchange).
    /// `bodyPending` when the request's body has not been read: the connection then closes rather
    /// than read a body nobody wants. Returns whether the connection closes after the answer.
    mutating func answering(closing: Bool, bodyPending: Bool) -> Bool {
        let close = closing || bodyPending || isClosed
        state = close ? (bodyPending && !isClosed ? .discarding : .closed) : .idle
        return close
    }

    private var isClosed: Bool {
        if case .closed = state { true } else { false }
    }

    mutating func requestBody(_ body: ByteBuffer) -> Action {
        guard case .forwarding(var exchange) = state else { return .none }
        exchange.receivedBodyBytes += Int64(body.readableBytes)
        guard exchange.receivedBodyBytes <= exchange.maxBodyBytes else { return fail(.bodyTooLarge) }
        if var held = exchange.heldBody {
            guard held.readableBytes + body.readableBytes <= exchange.heldBodyLimit else { return fail(.bodyTooLarge) }
            exchange.heldBody = nil  // appended in place, not copied
            held.writeImmutableBuffer(body)
            exchange.heldBody = held
            state = .forwarding(exchange)
            return .none
        }
        return send(.body(.byteBuffer(body)), in: &exchange)
    }

    mutating func requestEnd() -> Action {
        switch state {
        case .forwarding(var exchange):
            exchange.requestComplete = true
            if let held = exchange.heldBody {
                state = .forwarding(exchange)
                return .checkHeldBody(held)
            }
            guard case .connected = exchange.upstream else { return send(.end(nil), in: &exchange) }
            state = .forwarding(exchange)
            return .endRequest(armTimeout: !exchange.responseStarted)
        case .discarding:
            state = .closed
            return .none
        case .idle, .closed:
            return .none
        }
    }

    /// The route's body policies judged the held body: a refusal is answered, else it goes upstream.
    mutating func heldBodyChecked(refusal: GatewayProblem?) -> Action {
        guard case .forwarding(var exchange) = state, let held = exchange.heldBody else { return .none }
        if let refusal { return fail(refusal) }
        exchange.heldBody = nil
        if held.readableBytes > 0 { _ = send(.body(.byteBuffer(held)), in: &exchange) }
        _ = send(.end(nil), in: &exchange)
        return .connect(allowReuse: true)
    }

    /// The gateway stops taking the request's body (it arrived too slowly, or holding more of it
    /// would go beyond the budget): `problem` is answered unless a response has started.
    mutating func requestBodyRefused(_ problem: GatewayProblem) -> Action {
        guard case .forwarding(let exchange) = state, !exchange.requestComplete else { return .none }
        return fail(problem.closingConnection())
    }

    /// The client connection failed: the decoder could not parse its bytes (`parseProblem` is the
    /// answer), or something else went wrong. `isActive` is false when the connection is already
    /// going away (the decoder reports what it was left with): nobody could read an answer.
    mutating func clientError(parseProblem: GatewayProblem?, isActive: Bool) -> Action {
        let previous = state
        state = .closed
        switch previous {
        case .idle:
            guard let parseProblem, isActive else { return .close }
            return .fail(parseProblem.closingConnection(), answer: true)
        case .forwarding(let exchange):
            return .fail(
                .badFraming("The request body could not be parsed.").closingConnection(), answer: !exchange.responseStarted && isActive)
        case .discarding, .closed:
            // The answer that ends the connection closes it once written. Bytes after the last
            // request (the decoder refuses data after `Connection: close`, and reports it as the
            // answer's end is written) are ignored (RFC 9112 §9.6), not a reason to cut the answer off.
            return parseProblem == nil ? .close : .none
        }
    }

    /// The client connection closed.
    mutating func clientClosed() -> Action {
        let wasForwarding = isForwarding
        state = .closed
        return wasForwarding ? .abandonUpstream : .none
    }

    // MARK: Upstream events

    /// The pool leased a connection for exchange `number`.
    mutating func connected(exchange number: Int, reused: Bool) -> Action {
        guard case .forwarding(var exchange) = state, exchange.number == number else { return .releaseConnection }
        let parts: [HTTPClientRequestPart]
        switch exchange.upstream {
        case .waiting(let waiting, _): parts = waiting
        case .retrying: parts = [.head(exchange.upstreamHead), .end(nil)]  // only body-less requests are retried
        case .connected, .updating: return .releaseConnection
        }
        exchange.upstream = .connected(reused: reused)
        state = .forwarding(exchange)
        return .attach(parts: parts, armTimeout: exchange.requestComplete && !exchange.responseStarted)
    }

    /// No connection could be had for exchange `number`: no target took one (`upstream_unavailable`),
    /// or no request slot came free (`upstream_busy`).
    mutating func connectFailed(exchange number: Int, problem: GatewayProblem = .upstreamUnavailable) -> Action {
        guard exchangeNumber == number else { return .none }
        return fail(problem)
    }

    /// `response_timeout` passed for exchange `number` without a response head.
    mutating func responseTimedOut(exchange number: Int) -> Action {
        guard case .forwarding(let exchange) = state, exchange.number == number, !exchange.responseStarted else { return .none }
        return fail(.upstreamTimeout)
    }

    mutating func upstreamHead(_ head: HTTPResponseHead, clientVersion: HTTPVersion, hasContentLength: Bool) -> Action {
        guard case .forwarding(var exchange) = state else { return .none }
        // Upgrades are never forwarded, so an upstream switching protocols is misbehaving.
        if head.status == .switchingProtocols { return fail(.upstreamFailed) }
        if (100..<200).contains(head.status.code) || exchange.responseStarted { return .none }
        exchange.responseStarted = true
        exchange.upstreamKeepAlive = head.isKeepAlive
        if clientVersion == .http1_0, !hasContentLength {
            exchange.keepAlive = false  // HTTP/1.0 has no chunking: the close ends the body
        }
        state = .forwarding(exchange)
        let connection: ConnectionHeader = !exchange.keepAlive ? .close : clientVersion == .http1_0 ? .keepAlive : .none
        return .writeResponseHead(connection: connection)
    }

    mutating func upstreamBody(_ body: ByteBuffer) -> Action {
        guard case .forwarding(let exchange) = state else { return .none }
        return exchange.responseStarted ? .writeResponseBody(body) : fail(.upstreamFailed)
    }

    mutating func upstreamEnd() -> Action {
        guard case .forwarding(let exchange) = state else { return .none }
        guard exchange.responseStarted else { return fail(.upstreamFailed) }
        guard exchange.requestComplete else {
            // The upstream answered before the body was fully sent: neither side can be reused.
            state = .closed
            return .finish(keepUpstream: false, closeClient: true)
        }
        // Writing the end may hand over the next pipelined request at once: be ready for it first.
        state = exchange.keepAlive ? .idle : .closed
        return .finish(keepUpstream: exchange.upstreamKeepAlive, closeClient: !exchange.keepAlive)
    }

    /// The upstream connection closed or failed before the response ended.
    mutating func upstreamClosed() -> Action {
        guard case .forwarding(var exchange) = state else { return .none }
        if exchange.responseStarted {
            state = .closed
            return .upstreamAborted(.closed)
        }
        // A retry is safe only for an idempotent request without a body, on a reused connection
        // (which the upstream may have closed while idle), before any response byte.
        guard case .connected(reused: true) = exchange.upstream, !exchange.retried, exchange.requestComplete,
            exchange.receivedBodyBytes == 0, exchange.isIdempotent
        else { return fail(.upstreamFailed) }
        exchange.retried = true
        exchange.upstream = .retrying
        state = .forwarding(exchange)
        return .retry
    }

    /// `idle_timeout` passed without a byte either way and the connection (or stream) is being cut.
    /// The upstream is to blame when it owed the rest of a started response for a request it had
    /// whole, and the client was taking what it was sent (`clientWritable`: the upstream's reads
    /// were not held for it). A client that stopped reading, or sending its body, is not.
    mutating func idleTimedOut(clientWritable: Bool) -> Action {
        guard case .forwarding(let exchange) = state, exchange.responseStarted, exchange.requestComplete, clientWritable else {
            return .none
        }
        state = .closed
        return .upstreamAborted(.stalled)
    }

    // MARK: Helpers

    /// Sends `part` upstream, or keeps it until the connection is there.
    private mutating func send(_ part: HTTPClientRequestPart, in exchange: inout Exchange) -> Action {
        defer { state = .forwarding(exchange) }
        guard case .waiting(var parts, var bytes) = exchange.upstream else { return .sendUpstream(part) }
        exchange.upstream = .updating
        parts.append(part)
        if case .body(.byteBuffer(let buffer)) = part { bytes += buffer.readableBytes }
        exchange.upstream = .waiting(parts: parts, bytes: bytes)
        return .none
    }

    /// Ends the exchange with `problem`: answered while no response has started, after which the
    /// connection closes or, if it can be kept, waits for the next request.
    private mutating func fail(_ problem: GatewayProblem) -> Action {
        guard case .forwarding(let exchange) = state else { return .none }
        if exchange.responseStarted {
            state = .closed
            return .fail(problem, answer: false)
        }
        return .fail(exchange.keepAlive ? problem : problem.closingConnection(), answer: true)
    }

    /// Whether the request still has an unread body: the answer to a failed exchange then closes.
    var bodyPending: Bool {
        if case .forwarding(let exchange) = state { !exchange.requestComplete } else { false }
    }

    /// The bytes of the body being held, while one is; `nil` when the body streams or is no longer held.
    var heldBodyBytes: Int? {
        if case .forwarding(let exchange) = state { exchange.heldBody?.readableBytes } else { nil }
    }

    /// The request body bytes received for the exchange in progress.
    var receivedBodyBytes: Int64 {
        if case .forwarding(let exchange) = state { exchange.receivedBodyBytes } else { 0 }
    }

    private static func isIdempotent(_ method: HTTPMethod) -> Bool {
        switch method {
        case .GET, .HEAD, .OPTIONS, .PUT, .DELETE, .TRACE: true
        default: false
        }
    }
}
