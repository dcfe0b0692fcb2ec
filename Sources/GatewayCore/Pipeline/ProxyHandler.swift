import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// The gateway's request path for one client connection.
///
/// Admits each request at its head (``RequestAdmission``), borrows a connection from this event
/// loop's upstream pool, and streams both bodies with backpressure: client reads are held while the
/// upstream cannot take more, upstream reads while the client cannot. What happens next is decided
/// by ``ProxyStateMachine``; this handler translates between NIO and it. Everything runs on the
/// connection's event loop; nothing here blocks or locks.
final class ProxyHandler: ChannelDuplexHandler, UpstreamResponseSink {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// The config in force, its pools and this loop's token cache, as of the last request head.
    private(set) var runtime: GatewayRuntime
    private var pools: UpstreamPools
    private var tokenCache: VerifiedTokenCache?
    private var generationNumber: Int
    private let generations: ServingGenerations
    let recorder: AuditRecorder
    let metrics: RequestMetrics
    /// Held bodies' bytes over every connection.
    private let heldBodyBudget: HeldBodyBudget
    /// What this connection has reserved of ``heldBodyBudget`` for the body being held.
    private var heldBodyReserved = 0
    /// Cuts off a request body that takes too long or arrives too slowly.
    private var bodyDeadline: Scheduled<Void>?
    /// The client's time on the body, while it is arriving.
    private var bodyClock: BodyClock?
    let logger: Logger
    /// HTTP/1.1 connection or HTTP/2 stream: whether `Connection` headers are written.
    private let clientProtocol: ClientProtocol
    private var machine = ProxyStateMachine()
    /// The upstream side of the request being forwarded.
    private var exchange: Exchange?
    private(set) var context: ChannelHandlerContext!
    private var clientReadPending = false
    /// How deeply `channelRead` is nested. Writing a response's end can hand over the next
    /// pipelined request synchronously; answering that one can do the same, and so on.
    private var readDepth = 0
    /// Pipelined requests answered re-entrantly before the connection is closed instead.
    private static let maximumReadDepth = 8
    /// The request being handled, from its head until its access log line is written.
    var request: RequestContext?
    /// What the access log and the metrics will say about the request being handled.
    var record: RequestRecord?

    /// Serves the connection under `generation`, and each later request under the generation in
    /// force at its head. On an HTTP/2 stream (`clientProtocol` `.http2`) it serves the stream's one request.
    init(
        generations: ServingGenerations, generation: ServingGeneration, eventLoop: any EventLoop, recorder: AuditRecorder,
        metrics: RequestMetrics, heldBodyBudget: HeldBodyBudget, logger: Logger, clientProtocol: ClientProtocol = .http1
    ) {
        self.clientProtocol = clientProtocol
        self.heldBodyBudget = heldBodyBudget
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
    /// the connection's request head and record, alive after the channel is gone. Whatever the
    /// request still held (an upstream slot, a part of the held-body budget, a timer) goes back.
    func handlerRemoved(context: ChannelHandlerContext) {
        exchange?.finish(keepConnection: false)  // gives its upstream slot back
        exchange = nil
        endBodyDeadline()
        releaseHeldBody()
        self.context = nil
    }

    // MARK: Client side

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        readDepth += 1
        defer { readDepth -= 1 }
        switch unwrapInboundIn(data) {
        case .head(let head): receiveHead(head)
        case .body(let body):
            if reserveHeldBody(adding: body.readableBytes) {
                perform(machine.requestBody(body))
            } else {
                perform(machine.requestBodyRefused(.heldBodyBudgetExceeded))
            }
        case .end:
            endBodyDeadline()
            perform(machine.requestEnd())
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        exchange?.connection?.flush()
        context.fireChannelReadComplete()
    }

    /// Reads are held while the client does not take our answers, or the upstream does not take its body.
    func read(context: ChannelHandlerContext) {
        if mustHoldClientReads {
            clientReadPending = true
            if context.channel.isWritable { bodyClock?.pause() }  // for the upstream's sake, not the client's
        } else {
            context.read()
        }
    }

    private var mustHoldClientReads: Bool {
        if !context.channel.isWritable { return true }
        guard machine.isForwarding else { return false }
        return machine.isWaitingBacklogFull || exchange?.isUpstreamBacklogged == true
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if let connection = exchange?.connection {
            if context.channel.isWritable { connection.resumeReads() } else { connection.holdReads() }
        }
        resumeClientReads()
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        endBodyDeadline()
        perform(machine.clientClosed())
        releaseHeldBody()
        completeRecord()
        context.fireChannelInactive()
    }

    /// `idle_timeout` is cutting the connection (or stream) while a request is in progress.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is RequestIdleTimeoutEvent {
            record?.bytesIn = machine.receivedBodyBytes
            perform(machine.idleTimedOut(clientWritable: context.channel.isWritable))
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let parseProblem: GatewayProblem? =
            switch error as? HTTPParserError {
            case .headerOverflow?: .headersTooLarge
            case _?: .badFraming("The request could not be parsed as HTTP/1.1.")
            case nil: nil
            }
        let action = machine.clientError(parseProblem: parseProblem, isActive: context.channel.isActive)
        // The decoder refused the bytes before a head was admitted: the answer gets a request id of its own.
        if case .fail(_, answer: true) = action, record == nil { startRecord(requestID: RequestID.generate()) }
        perform(action)
    }

    private func receiveHead(_ head: HTTPRequestHead) {
        guard machine.isIdle else { return }
        // After a reload, the request goes under the new policies, and then the connection closes:
        // its certificate, TLS version and timeouts were the old config's.
        var reloaded = false
        if let generation = generations.replacing(generationNumber) {
            (runtime, pools, generationNumber) = (generation.runtime, generation.pools, generation.number)
            tokenCache = generation.tokenCaches.cache(on: context.eventLoop)
            reloaded = true
        }
        context.triggerUserOutboundEvent(RequestCycleEvent.headReceived, promise: nil)
        let peer = context.channel.remoteAddress
        var request = RequestContext(
            id: runtime.headerRules.requestID(peer: peer, headers: head.headers, generated: RequestID.generate), head: head,
            client: runtime.headerRules.clientAddress(peer: peer, headers: head.headers), now: runtime.now(), tokenCache: tokenCache)
        startRecord(requestID: request.id)
        let bodyPending = Self.hasBody(head)
        let keepOpen = head.isKeepAlive && !reloaded && readDepth <= Self.maximumReadDepth
        let admission: Result<Admission, GatewayProblem>
        do {
            admission = .success(try RequestAdmission.admit(&request, peer: peer, runtime: runtime))
        } catch {
            admission = .failure(error)
        }
        self.request = request
        switch admission {
        case .success(.forward(let route, let upstreamHead)):
            observeAdmission(request)
            guard let balancer = pools.balancer(route.upstream, on: context.eventLoop), let pool = balancer.pick() else {
                respond(.upstreamUnavailable, closing: !keepOpen, bodyPending: bodyPending)
                return
            }
            if let limit = route.heldBodyLimit, bodyPending, !reserveHeldBody(upTo: limit, framing: request.framing) {
                respond(.heldBodyBudgetExceeded, closing: true, bodyPending: bodyPending)
                return
            }
            if bodyPending { startBodyDeadline() }
            let action = machine.admitted(
                upstreamHead: upstreamHead, keepAlive: head.isKeepAlive && !reloaded, maxBodyBytes: route.validation.maxBodyBytes,
                heldBodyLimit: route.heldBodyLimit)
            exchange = machine.exchangeNumber.map { Exchange(number: $0, balancer: balancer, pool: pool) }
            if request.expectsContinue {
                context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .continue))), promise: nil)
            }
            perform(action)
        case .success(.answer(let status, let headers)):
            write(status, headers: headers + [("Content-Length", "0")], body: nil, closing: !keepOpen, bodyPending: bodyPending)
        case .failure(let problem):
            respond(problem, closing: !keepOpen, bodyPending: bodyPending)
        }
    }

    // MARK: Upstream side

    func upstreamReceived(_ part: HTTPClientResponsePart) {
        switch part {
        case .head(let head):
            perform(
                machine.upstreamHead(
                    head, clientVersion: request?.head.version ?? .http1_1, hasContentLength: head.headers.contains(name: "content-length")),
                upstreamHead: head)
        case .body(let body):
            perform(machine.upstreamBody(body))
        case .end:
            perform(machine.upstreamEnd())
        }
    }

    func upstreamReadComplete() { context.flush() }

    func upstreamFailed() {
        exchange?.detach()
        record?.bytesIn = machine.receivedBodyBytes
        perform(machine.upstreamClosed())
    }

    func upstreamWritabilityChanged(isWritable: Bool) {
        if isWritable { resumeClientReads() }
    }

    // MARK: Actions

    /// Carries out what the state machine decided.
    private func perform(_ action: ProxyStateMachine.Action, upstreamHead: HTTPResponseHead? = nil) {
        switch action {
        case .none:
            break
        case .connect(let allowReuse):
            connect(allowReuse: allowReuse)
        case .attach, .releaseConnection:
            break  // the answers to a lease, handled where it arrives (`connect`)
        case .sendUpstream(let part):
            exchange?.connection?.write(part)
        case .endRequest(let armTimeout):
            exchange?.connection?.write(.end(nil))
            exchange?.connection?.flush()
            if armTimeout, let exchange { armResponseDeadline(exchange) }
        case .checkHeldBody(let body):
            checkHeldBody(body)
        case .writeResponseHead(let connection):
            if let upstreamHead { writeResponseHead(upstreamHead, connection: connection) }
        case .writeResponseBody(let body):
            record?.bytesOut += body.readableBytes
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
            if !context.channel.isWritable { exchange?.connection?.holdReads() }
        case .finish(let keepUpstream, let closeClient):
            finish(keepUpstream: keepUpstream, closeClient: closeClient)
        case .fail(let problem, let answer):
            exchange?.finish(keepConnection: false)
            exchange = nil
            endBodyDeadline()
            releaseHeldBody()
            record?.bytesIn = machine.receivedBodyBytes
            if answer {
                respond(problem.adding(headers: request?.answerHeaders ?? []), closing: false, bodyPending: machine.bodyPending)
            } else {
                context.close(promise: nil)
            }
        case .retry:
            exchange?.cancelResponseDeadline()
            connect(allowReuse: false)
        case .abandonUpstream, .close:
            exchange?.finish(keepConnection: false)
            exchange = nil
            if action == .close { context.close(promise: nil) }
        case .upstreamAborted(let abort):
            recordUpstreamAbort(abort, upstream: exchange?.pool.config.name, target: exchange.map { "\($0.pool.health.address)" })
            exchange?.finish(keepConnection: false)
            exchange = nil
            context.close(promise: nil)
        }
    }

    /// Takes a slot at the upstream, then a connection to one of its targets.
    private func connect(allowReuse: Bool) {
        guard let exchange else { return }
        guard let turn = exchange.takeSlot(on: context.eventLoop) else {
            connectTarget(allowReuse: allowReuse)
            return
        }
        turn.whenComplete { result in
            guard self.machine.exchangeNumber == exchange.number else { return }
            switch result {
            case .success:
                self.connectTarget(allowReuse: allowReuse)
            case .failure:
                self.logger.warning(
                    "upstream busy",
                    metadata: [
                        "gateway.request_id": "\(self.request?.id ?? "-")", "gateway.upstream": "\(exchange.balancer.name)",
                        "gateway.max_connections": "\(exchange.balancer.slots.limit)",
                    ])
                self.perform(self.machine.connectFailed(exchange: exchange.number, problem: .upstreamBusy))
            }
        }
    }

    /// Leases a connection to the exchange's target: an idle one at once, else a new one.
    private func connectTarget(allowReuse: Bool) {
        guard let exchange else { return }
        if allowReuse, let idle = exchange.takeIdleConnection() {
            leased(idle, reused: true, by: exchange)
            return
        }
        exchange.connect().whenComplete { result in
            switch result {
            case .success(let connection):
                self.leased(connection, reused: false, by: exchange)
            case .failure(let error):
                guard self.machine.exchangeNumber == exchange.number else { return }
                self.logger.warning(
                    "upstream connect failed",
                    metadata: [
                        "gateway.request_id": "\(self.request?.id ?? "-")", "gateway.upstream": "\(exchange.pool.config.name)",
                        "gateway.target": "\(exchange.pool.health.address)", "gateway.error": "\(error)",
                    ])
                // Nothing reached that target: the request can go to another one as it is.
                if exchange.failOver() {
                    self.connectTarget(allowReuse: true)
                } else {
                    self.perform(self.machine.connectFailed(exchange: exchange.number))
                }
            }
        }
    }

    /// Sends the request on `connection`, or gives it back when the request no longer needs it.
    private func leased(_ connection: UpstreamConnection, reused: Bool, by exchange: Exchange) {
        switch machine.connected(exchange: exchange.number, reused: reused) {
        case .attach(let parts, let armTimeout):
            releaseHeldBody()
            exchange.attach(connection, sink: self, parts: parts)
            if armTimeout { armResponseDeadline(exchange) }
            resumeClientReads()
        default:
            exchange.pool.release(connection)
        }
    }

    /// Starts `response_timeout` once the whole request is upstream: a long upload is not a slow upstream.
    private func armResponseDeadline(_ exchange: Exchange) {
        exchange.armResponseDeadline(on: context.eventLoop) {
            guard self.machine.exchangeNumber == exchange.number, !self.machine.responseStarted else { return }
            self.logger.warning(
                "upstream response timed out",
                metadata: ["gateway.request_id": "\(self.request?.id ?? "-")", "gateway.upstream": "\(exchange.pool.config.name)"])
            self.perform(self.machine.responseTimedOut(exchange: exchange.number))
        }
    }

    /// Runs the route's body policies over the complete held body.
    private func checkHeldBody(_ body: ByteBuffer) {
        var refusal = heldBodyRefusal(body)
        // Like an admission error: the answer's end may hand over the next pipelined request at once.
        if let problem = refusal, readDepth > Self.maximumReadDepth { refusal = problem.closingConnection() }
        perform(machine.heldBodyChecked(refusal: refusal))
    }

    private func writeResponseHead(_ head: HTTPResponseHead, connection: ProxyStateMachine.ConnectionHeader) {
        guard let request, let exchange else { return }
        exchange.cancelResponseDeadline()
        var headers = runtime.headerRules.clientResponseHeaders(
            head.headers, requestID: request.id, ownsCORS: request.route?.cors.isEnabled == true)
        for (name, value) in request.answerHeaders { headers.add(name: name, value: value) }
        for (name, value) in request.forwardedAnswerHeaders { headers.add(name: name, value: value) }
        switch connection {
        case .none: break
        case _ where !clientProtocol.sendsConnectionHeader: break
        case .close: headers.replaceOrAdd(name: "Connection", value: "close")
        case .keepAlive: headers.replaceOrAdd(name: "Connection", value: "keep-alive")
        }
        if let login = request.login { recordLoginOutcome(login, status: head.status) }
        record?.status = Int(head.status.code)
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: request.head.version, status: head.status, headers: headers))), promise: nil)
    }

    // MARK: Endings

    /// The upstream's response ended: return or close its connection, and end the client's answer.
    private func finish(keepUpstream: Bool, closeClient: Bool) {
        if let exchange, let started = exchange.started {
            let elapsed = (NIODeadline.now() - started).nanoseconds
            record?.upstreamNanoseconds = elapsed
            metrics.upstream(exchange.pool.config.name, nanoseconds: elapsed)
        }
        exchange?.finish(keepConnection: keepUpstream)
        exchange = nil
        endBodyDeadline()
        releaseHeldBody()
        // Writing the end may hand over the next pipelined request at once: be ready for it first.
        if !closeClient {
            context.triggerUserOutboundEvent(RequestCycleEvent.responseCompleted, promise: nil)
            resumeClientReads()
        }
        record?.bytesIn = machine.receivedBodyBytes
        completeRecord()
        let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if closeClient {
            written.assumeIsolated().whenComplete { [context] _ in context?.close(promise: nil) }
        }
    }

    // MARK: Body limits

    /// Reserves a held body's declared length (up to the route's `limit`) before any of it is
    /// read; a chunked body reserves as it grows. False when the budget is spent.
    private func reserveHeldBody(upTo limit: Int, framing: BodyFraming) -> Bool {
        guard case .length(let length) = framing else { return true }
        let bytes = Int(min(length, Int64(limit)))
        guard heldBodyBudget.reserve(bytes) else { return false }
        heldBodyReserved = bytes
        return true
    }

    /// Reserves what holding `bytes` more of the body needs beyond what is reserved already.
    private func reserveHeldBody(adding bytes: Int) -> Bool {
        guard let held = machine.heldBodyBytes else { return true }
        let needed = held + bytes - heldBodyReserved
        guard needed > 0 else { return true }
        guard heldBodyBudget.reserve(needed) else { return false }
        heldBodyReserved += needed
        return true
    }

    /// Gives the held body's reservation back: it went upstream, or the request is over.
    private func releaseHeldBody() {
        guard heldBodyReserved > 0 else { return }
        heldBodyBudget.release(heldBodyReserved)
        heldBodyReserved = 0
    }

    /// Starts the clock on the request body: it must be whole within `request_body_timeout`, and,
    /// once `ServerConfig.requestBodyRateGrace` has passed, arrive at `request_body_min_rate` on
    /// average. Time its reads are held back for the upstream does not count (``BodyClock``).
    private func startBodyDeadline() {
        let server = runtime.config.server
        bodyClock = BodyClock()
        let timeout = TimeAmount(server.requestBodyTimeout)
        let grace = TimeAmount(ServerConfig.requestBodyRateGrace)
        let minRate = Int64(server.requestBodyMinRate)
        let loop = context.eventLoop.assumeIsolated()
        func check() {
            guard let elapsed = bodyClock?.elapsed() else { return }
            let received = machine.receivedBodyBytes
            if elapsed >= timeout {
                bodyTimedOut("not whole after \(server.requestBodyTimeout.configDescription)")
                return
            }
            // When the body falls behind the minimum rate if nothing more arrives.
            var next = timeout
            if minRate > 0 {
                // In two steps, and capped: a large body times a billion would overflow.
                let behind =
                    TimeAmount.seconds(min(received / minRate, 1 << 30))
                    + .nanoseconds((received % minRate) * 1_000_000_000 / minRate)
                if elapsed >= grace, behind <= elapsed {
                    bodyTimedOut("\(received) bytes in \(elapsed.nanoseconds / 1_000_000) ms, under \(minRate) bytes/s")
                    return
                }
                next = min(timeout, max(grace, behind))
            }
            bodyDeadline = loop.scheduleTask(in: next - elapsed) { check() }
        }
        bodyDeadline = loop.scheduleTask(in: minRate > 0 ? min(grace, timeout) : timeout) { check() }
    }

    private func endBodyDeadline() {
        bodyDeadline?.cancel()
        bodyDeadline = nil
        bodyClock = nil
    }

    private func bodyTimedOut(_ reason: String) {
        endBodyDeadline()
        logger.info(
            "request body too slow",
            metadata: [
                "gateway.request_id": "\(request?.id ?? "-")", "gateway.client": "\(request?.client ?? "-")", "gateway.reason": "\(reason)",
            ])
        perform(machine.requestBodyRefused(.bodyTimeout(reason)))
    }

    /// Issues a read that was held back, once nothing needs holding any more.
    private func resumeClientReads() {
        guard clientReadPending, !mustHoldClientReads else { return }
        clientReadPending = false
        bodyClock?.resume()
        context.read()
    }

    /// Writes the gateway's own problem answer. When the request body has not been read, the
    /// connection closes after the answer rather than reading a body nobody wants.
    private func respond(_ problem: GatewayProblem, closing: Bool, bodyPending: Bool) {
        audit(problem)
        metrics.shared.refused(problem)
        let body = problem.body(requestID: record?.requestID ?? "-", allocator: context.channel.allocator)
        var headers: [(String, String)] = [
            ("Content-Type", "application/problem+json"), ("Content-Length", String(body.readableBytes)), ("Cache-Control", "no-store"),
        ]
        headers += problem.headers
        write(problem.status, headers: headers, body: body, closing: closing || problem.closesConnection, bodyPending: bodyPending)
    }

    /// Writes an answer of the gateway's own, then closes the connection or waits for the next request.
    private func write(
        _ status: HTTPResponseStatus, headers fields: [(String, String)], body: ByteBuffer?, closing: Bool, bodyPending: Bool
    ) {
        // Writing the end may hand over the next pipelined request at once: be ready for it first.
        let close = machine.answering(closing: closing, bodyPending: bodyPending)
        var headers = HTTPHeaders(fields)
        if close, clientProtocol.sendsConnectionHeader { headers.add(name: "Connection", value: "close") }
        runtime.headerRules.addGatewayHeaders(to: &headers, requestID: record?.requestID ?? "-")
        if !close {
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
}
