import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// The gateway's request path for one client connection.
///
/// Admits each request at its head (``RequestAdmission``), borrows a connection from this event
/// loop's upstream pool, and streams both bodies with backpressure: client reads are held while the
/// upstream cannot take more, upstream reads while the client cannot. Everything runs on the
/// connection's event loop; nothing here blocks or locks.
final class ProxyHandler: ChannelDuplexHandler, UpstreamResponseSink {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        /// Waiting for a request head.
        case idle
        /// A request is being forwarded and answered.
        case forwarding(Exchange)
        /// The gateway answered the request itself and is closing; remaining body parts are dropped.
        case discarding
        case closed
    }

    /// The config in force, its pools and this loop's token cache, as of the last request head.
    private(set) var runtime: GatewayRuntime
    private var pools: UpstreamPools
    private var tokenCache: VerifiedTokenCache?
    private var generationNumber: Int
    private let generations: ServingGenerations
    let recorder: AuditRecorder
    let metrics: RequestMetrics
    let logger: Logger
    /// HTTP/1.1 connection or HTTP/2 stream: whether `Connection` headers are written.
    private let clientProtocol: ClientProtocol
    private var state = State.idle
    private(set) var context: ChannelHandlerContext!
    private var clientReadPending = false
    /// How deeply `channelRead` is nested. Writing a response's end can hand over the next
    /// pipelined request synchronously; answering that one can do the same, and so on.
    private var readDepth = 0
    /// Pipelined requests answered re-entrantly before the connection is closed instead.
    private static let maximumReadDepth = 8
    /// The head of the request being handled, for the audit trail.
    var currentHead: HTTPRequestHead?
    /// What the access log and the metrics will say about the request being handled.
    var record: RequestRecord?

    /// Serves the connection under `generation`, and each later request under the generation in
    /// force at its head. On an HTTP/2 stream (`clientProtocol` `.http2`) it serves the stream's one request.
    init(
        generations: ServingGenerations, generation: ServingGeneration, eventLoop: any EventLoop, recorder: AuditRecorder,
        metrics: RequestMetrics, logger: Logger, clientProtocol: ClientProtocol = .http1
    ) {
        self.clientProtocol = clientProtocol
        self.generations = generations
        self.runtime = generation.runtime
        self.pools = generation.pools
        self.tokenCache = generation.tokenCaches.cache(on: eventLoop)
        self.generationNumber = generation.number
        self.recorder = recorder
        self.metrics = metrics
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    /// Drops the context, which holds this handler: the two would otherwise keep each other, and
    /// the connection's request head and record, alive after the channel is gone.
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    // MARK: Client side

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        readDepth += 1
        defer { readDepth -= 1 }
        switch unwrapInboundIn(data) {
        case .head(let head): receiveHead(head)
        case .body(let body): receiveBody(body)
        case .end: receiveEnd()
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if case .forwarding(let exchange) = state { exchange.upstream?.flush() }
        context.fireChannelReadComplete()
    }

    /// Reads are held while the client does not take our answers, or the upstream does not take its body.
    func read(context: ChannelHandlerContext) {
        if mustHoldClientReads {
            clientReadPending = true
        } else {
            context.read()
        }
    }

    private var mustHoldClientReads: Bool {
        if !context.channel.isWritable { return true }
        if case .forwarding(let exchange) = state { return exchange.isUpstreamBacklogged }
        return false
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if case .forwarding(let exchange) = state, let upstream = exchange.upstream {
            if context.channel.isWritable { upstream.resumeReads() } else { upstream.holdReads() }
        }
        resumeClientReads()
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if case .forwarding(let exchange) = state { exchange.abandon() }
        completeRecord()
        state = .closed
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        switch state {
        case .idle:
            // The decoder refused the bytes before a head was admitted: answer once, then close.
            let problem: GatewayProblem =
                (error as? HTTPParserError) == .headerOverflow
                ? .headersTooLarge : .badFraming("The request could not be parsed as HTTP/1.1.")
            // A connection already going away (the decoder reports the bytes it was left with
            // when the channel closes, e.g. after a drain) gets no answer: nothing could read it.
            if error is HTTPParserError, context.channel.isActive {
                let requestID = Self.generateRequestID()
                startRecord(requestID: requestID, head: nil)
                respond(problem.closingConnection(), requestID: requestID, bodyPending: false)
            } else {
                context.close(promise: nil)
            }
        case .forwarding(let exchange):
            exchange.abandon()
            if exchange.responseStarted || !context.channel.isActive {
                context.close(promise: nil)
            } else {
                respond(
                    .badFraming("The request body could not be parsed.").closingConnection(), requestID: exchange.requestID,
                    bodyPending: false)
            }
        case .discarding, .closed:
            // The answer that ends the connection closes it once written. Bytes after the last
            // request (the decoder refuses data after `Connection: close`, and reports it as the
            // answer's end is written) are ignored (RFC 9112 §9.6), not a reason to cut the answer off.
            if !(error is HTTPParserError) { context.close(promise: nil) }
        }
        state = .closed
    }

    private func receiveHead(_ head: HTTPRequestHead) {
        guard case .idle = state else { return }
        // After a reload, the request goes under the new policies, and then the connection closes:
        // its certificate, TLS version and timeouts were the old config's.
        var reloaded = false
        if let generation = generations.replacing(generationNumber) {
            (runtime, pools, generationNumber) = (generation.runtime, generation.pools, generation.number)
            tokenCache = generation.tokenCaches.cache(on: context.eventLoop)
            reloaded = true
        }
        currentHead = head
        context.triggerUserOutboundEvent(RequestCycleEvent.headReceived, promise: nil)
        let peer = context.channel.remoteAddress
        let requestID = runtime.headerRules.requestID(peer: peer, headers: head.headers, generated: Self.generateRequestID)
        startRecord(requestID: requestID, head: head)
        let bodyPending = Self.hasBody(head)
        let keepOpen = head.isKeepAlive && !reloaded && readDepth <= Self.maximumReadDepth
        let admitted: AdmittedRequest
        do {
            switch try RequestAdmission.admit(head, peer: peer, requestID: requestID, runtime: runtime, tokenCache: tokenCache) {
            case .forward(let request):
                admitted = request
                observeAdmission(request)
            case .answer(let status, let headers):
                answer(status, headers: headers, requestID: requestID, close: !keepOpen, bodyPending: bodyPending)
                return
            }
        } catch {
            respond(keepOpen ? error : error.closingConnection(), requestID: requestID, bodyPending: bodyPending)
            return
        }
        for decision in admitted.passedDecisions {
            audit(decision.type, reason: decision.reason, status: nil, requestID: requestID, subject: admitted.identity?.subject)
        }
        let route = admitted.route
        guard let balancer = pools.balancer(route.upstream, on: context.eventLoop), let pool = balancer.pick() else {
            respond(.upstreamUnavailable, requestID: requestID, bodyPending: bodyPending)
            return
        }
        let login = route.login ? LoginAttempt(clientAddress: runtime.headerRules.clientAddress(peer: peer, headers: head.headers)) : nil
        let heldLimits = [route.validation.heldBodyLimit, route.login ? LoginAttempt.maximumBodyBytes : nil].compactMap { $0 }
        let exchange = Exchange(
            requestID: requestID, clientHead: head, admitted: admitted, balancer: balancer, pool: pool,
            maxBodyBytes: route.validation.maxBodyBytes,
            heldBody: heldLimits.min().map(HeldBody.init(limit:)), login: login)
        if reloaded { exchange.clientKeepAlive = false }
        state = .forwarding(exchange)
        if admitted.expectsContinue {
            context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .continue))), promise: nil)
        }
        // A held body connects only once it is whole and checked (`receiveEnd`).
        if exchange.heldBody == nil { connect(exchange, allowReuse: true) }
    }

    private func receiveBody(_ body: ByteBuffer) {
        guard case .forwarding(let exchange) = state else { return }
        exchange.receivedBodyBytes += Int64(body.readableBytes)
        guard exchange.receivedBodyBytes <= exchange.maxBodyBytes else {
            fail(exchange, with: .bodyTooLarge)
            return
        }
        if let held = exchange.heldBody {
            if !held.append(body) { fail(exchange, with: .bodyTooLarge) }
            return
        }
        exchange.send(.body(.byteBuffer(body)))
    }

    private func receiveEnd() {
        switch state {
        case .forwarding(let exchange) where exchange.heldBody != nil:
            exchange.requestComplete = true
            if let refusal = heldBodyRefusal(exchange) {
                // Like an admission error: the answer's end may hand over the next pipelined request at once.
                let keepOpen = exchange.clientKeepAlive && readDepth <= Self.maximumReadDepth
                fail(exchange, with: keepOpen ? refusal : refusal.closingConnection())
            } else {
                sendHeldBody(exchange)
                connect(exchange, allowReuse: true)
            }
        case .forwarding(let exchange):
            exchange.requestComplete = true
            exchange.send(.end(nil))
            exchange.upstream?.flush()
            armResponseDeadline(exchange)
        case .discarding:
            state = .closed
        case .idle, .closed:
            break
        }
    }

    // MARK: Upstream side

    private func connect(_ exchange: Exchange, allowReuse: Bool) {
        if exchange.upstreamStarted == nil { exchange.upstreamStarted = .now() }
        exchange.pool.acquire(allowReuse: allowReuse).whenComplete { result in
            guard case .forwarding(let current) = self.state, current === exchange else {
                if case .success(let lease) = result { exchange.pool.release(lease.connection) }
                return
            }
            switch result {
            case .success(let lease):
                exchange.attach(lease.connection, reused: lease.reused, sink: self)
                self.armResponseDeadline(exchange)
                self.resumeClientReads()
            case .failure(let error):
                self.logger.warning(
                    "upstream connect failed",
                    metadata: [
                        "gateway.request_id": "\(exchange.requestID)", "gateway.upstream": "\(exchange.pool.config.name)",
                        "gateway.target": "\(exchange.pool.health.address)", "gateway.error": "\(error)",
                    ])
                // Nothing reached that target: the request can go to another one as it is.
                if let next = exchange.failOver() {
                    exchange.pool = next
                    self.connect(exchange, allowReuse: true)
                } else {
                    self.fail(exchange, with: .upstreamUnavailable)
                }
            }
        }
    }

    /// Starts `response_timeout` once the whole request is upstream: a long upload is not a slow upstream.
    private func armResponseDeadline(_ exchange: Exchange) {
        guard exchange.requestComplete, exchange.upstream != nil, !exchange.responseStarted else { return }
        exchange.responseDeadline?.cancel()
        exchange.responseDeadline = context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(exchange.pool.config.responseTimeout)) {
            self.responseTimedOut(exchange)
        }
    }

    private func responseTimedOut(_ exchange: Exchange) {
        guard case .forwarding(let current) = state, current === exchange, !exchange.responseStarted else { return }
        logger.warning(
            "upstream response timed out",
            metadata: ["gateway.request_id": "\(exchange.requestID)", "gateway.upstream": "\(exchange.pool.config.name)"])
        fail(exchange, with: .upstreamTimeout)
    }

    func upstreamReceived(_ part: HTTPClientResponsePart) {
        guard case .forwarding(let exchange) = state else { return }
        switch part {
        case .head(let head) where head.status == .switchingProtocols:
            // Upgrades are never forwarded, so an upstream switching protocols is misbehaving.
            fail(exchange, with: .upstreamFailed)
        case .head(let head) where (100..<200).contains(head.status.code):
            return
        case .body where !exchange.responseStarted, .end where !exchange.responseStarted:
            fail(exchange, with: .upstreamFailed)
        case .head(let head):
            exchange.responseDeadline?.cancel()
            exchange.responseStarted = true
            exchange.upstreamKeepAlive = head.isKeepAlive
            var headers = runtime.headerRules.clientResponseHeaders(
                head.headers, requestID: exchange.requestID, ownsCORS: exchange.admitted.route.cors.isEnabled)
            for (name, value) in exchange.admitted.responseHeaders { headers.add(name: name, value: value) }
            if exchange.clientHead.version == .http1_0, !headers.contains(name: "content-length") {
                exchange.clientKeepAlive = false  // HTTP/1.0 has no chunking: the close ends the body
            }
            if clientProtocol.sendsConnectionHeader, !exchange.clientKeepAlive {
                headers.replaceOrAdd(name: "Connection", value: "close")
            } else if clientProtocol.sendsConnectionHeader, exchange.clientHead.version == .http1_0 {
                headers.replaceOrAdd(name: "Connection", value: "keep-alive")
            }
            if let login = exchange.login { recordLoginOutcome(login, status: head.status, requestID: exchange.requestID) }
            let response = HTTPResponseHead(version: exchange.clientHead.version, status: head.status, headers: headers)
            record?.status = Int(head.status.code)
            context.write(wrapOutboundOut(.head(response)), promise: nil)
        case .body(let body):
            record?.bytesOut += body.readableBytes
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
            if !context.channel.isWritable { exchange.upstream?.holdReads() }
        case .end:
            exchange.responseComplete = true
            if let started = exchange.upstreamStarted {
                let elapsed = (NIODeadline.now() - started).nanoseconds
                record?.upstreamNanoseconds = elapsed
                metrics.upstream(exchange.pool.config.name, nanoseconds: elapsed)
            }
            if exchange.requestComplete {
                finish(exchange)
            } else {
                // The upstream answered before the body was fully sent: neither side can be reused.
                exchange.abandon()
                state = .closed
                context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { [context] _ in
                    context?.close(promise: nil)
                }
            }
        }
    }

    func upstreamReadComplete() { context.flush() }

    func upstreamFailed() {
        guard case .forwarding(let exchange) = state else { return }
        exchange.detach()
        if exchange.responseStarted {
            state = .closed
            context.close(promise: nil)
        } else if exchange.mayRetry {
            exchange.retried = true
            exchange.responseDeadline?.cancel()
            connect(exchange, allowReuse: false)
        } else {
            fail(exchange, with: .upstreamFailed)
        }
    }

    func upstreamWritabilityChanged(isWritable: Bool) {
        if isWritable { resumeClientReads() }
    }

    // MARK: Endings

    /// Both directions finished cleanly: return the upstream connection and wait for the next request.
    private func finish(_ exchange: Exchange) {
        exchange.responseDeadline?.cancel()
        if let upstream = exchange.upstream {
            exchange.detach()
            if exchange.upstreamKeepAlive { exchange.pool.release(upstream) } else { upstream.abandon() }
        }
        // Writing the end may hand over the next pipelined request at once: be ready for it first.
        let keepAlive = exchange.clientKeepAlive
        state = keepAlive ? .idle : .closed
        if keepAlive {
            context.triggerUserOutboundEvent(RequestCycleEvent.responseCompleted, promise: nil)
            resumeClientReads()
        }
        record?.bytesIn = exchange.receivedBodyBytes
        completeRecord()
        let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            written.assumeIsolated().whenComplete { [context] _ in context?.close(promise: nil) }
        }
    }

    /// Issues a read that was held back, once nothing needs holding any more.
    private func resumeClientReads() {
        guard clientReadPending, !mustHoldClientReads else { return }
        clientReadPending = false
        context.read()
    }

    /// Gives up on an exchange: answers with `problem` if nothing was sent yet, else just closes.
    private func fail(_ exchange: Exchange, with problem: GatewayProblem) {
        exchange.abandon()
        record?.bytesIn = exchange.receivedBodyBytes
        if exchange.responseStarted {
            state = .closed
            context.close(promise: nil)
        } else {
            state = .idle
            let problem = problem.adding(headers: exchange.admitted.corsHeaders)
            respond(
                exchange.clientKeepAlive ? problem : problem.closingConnection(), requestID: exchange.requestID,
                bodyPending: !exchange.requestComplete)
        }
    }

    /// Writes the gateway's own problem answer. When the request body has not been read, the
    /// connection closes after the answer rather than reading a body nobody wants.
    private func respond(_ problem: GatewayProblem, requestID: String, bodyPending: Bool) {
        audit(problem, requestID: requestID)
        metrics.shared.refused(problem)
        let body = problem.body(requestID: requestID, allocator: context.channel.allocator)
        var headers: [(String, String)] = [
            ("Content-Type", "application/problem+json"), ("Content-Length", String(body.readableBytes)), ("Cache-Control", "no-store"),
        ]
        headers += problem.headers
        write(problem.status, headers: headers, body: body, requestID: requestID, close: problem.closesConnection, bodyPending: bodyPending)
    }

    /// Writes an answer of the gateway's own without a body (a preflight's 204).
    private func answer(_ status: HTTPResponseStatus, headers: [(String, String)], requestID: String, close: Bool, bodyPending: Bool) {
        write(status, headers: headers + [("Content-Length", "0")], body: nil, requestID: requestID, close: close, bodyPending: bodyPending)
    }

    private func write(
        _ status: HTTPResponseStatus, headers fields: [(String, String)], body: ByteBuffer?, requestID: String, close requested: Bool,
        bodyPending: Bool
    ) {
        let close = requested || bodyPending
        var headers = HTTPHeaders(fields)
        if close, clientProtocol.sendsConnectionHeader { headers.add(name: "Connection", value: "close") }
        runtime.headerRules.addGatewayHeaders(to: &headers, requestID: requestID)
        // Writing the end may hand over the next pipelined request at once: be ready for it first.
        if close {
            state = bodyPending ? .discarding : .closed
        } else {
            state = .idle
            context.triggerUserOutboundEvent(RequestCycleEvent.responseCompleted, promise: nil)
            resumeClientReads()
        }
        record?.status = Int(status.code)
        record?.bytesOut += body?.readableBytes ?? 0
        completeRecord()
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        if let body { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if close {
            written.assumeIsolated().whenComplete { [context] _ in context?.close(promise: nil) }
        }
    }

    static func hasBody(_ head: HTTPRequestHead) -> Bool {
        if head.headers.contains(name: "transfer-encoding") { return true }
        if let length = head.headers.first(name: "content-length") { return length != "0" }
        return false
    }

    static func generateRequestID() -> String {
        var generator = SystemRandomNumberGenerator()
        let high = generator.next() as UInt64
        let low = generator.next() as UInt64
        return hex(high) + hex(low)
    }

    private static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
