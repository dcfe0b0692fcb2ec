import NIOCore

/// What the proxy tells ``ConnectionTimeoutHandler`` about the request cycle.
enum RequestCycleEvent {
    /// A complete request head arrived: the header deadline is met.
    case headReceived
    /// The response ended and the connection stays open for the next request.
    case responseCompleted
}

/// What ``ConnectionTimeoutHandler`` (and, on HTTP/2, ``HTTP2StreamGuard``) sends the request
/// handler just before `idle_timeout` cuts a request in progress, so that it can tell whose silence
/// it was.
struct RequestIdleTimeoutEvent {}

/// Cuts off clients that are too slow to send a request head (slowloris), that sit idle, or whose
/// request stalls.
///
/// Sits between TLS and the HTTP decoder so it sees raw bytes: a connection starts with the header
/// deadline (handshake included); after each response it waits `idle_timeout` for the next bytes,
/// which then start a new header deadline. While a request is in progress, `idle_timeout` without a
/// byte read or written in either direction closes the connection (a trickled body, a client that
/// stops reading, an upstream that stalls mid-body); ``RequestIdleTimeoutEvent`` goes up first.
///
/// One timer per connection, never rescheduled by the request cycle: it fires at most every
/// `min(request_header_timeout, idle_timeout)` and checks the deadline of the phase the connection
/// is in, so a request costs no timer work at all. The clock is the event loop's.
///
/// On HTTP/2 the connection's first stream removes it (``HTTP2ConnectionManager`` takes over).
final class ConnectionTimeoutHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum Phase { case awaitingHead, busy, idle }

    private let headerTimeout: TimeAmount
    private let idleTimeout: TimeAmount
    /// The longest the timer waits before it looks again: no deadline a phase starts is earlier.
    private let checkInterval: TimeAmount
    private var phase = Phase.awaitingHead
    /// When the phase began: the connection or the first byte of a head, the end of the last response.
    private var phaseStarted = NIODeadline.uptimeNanoseconds(0)
    /// The last byte read or written.
    private var lastActivity = NIODeadline.uptimeNanoseconds(0)
    private var timer: Scheduled<Void>?

    init(headerTimeout: TimeAmount, idleTimeout: TimeAmount) {
        self.headerTimeout = headerTimeout
        self.idleTimeout = idleTimeout
        self.checkInterval = min(headerTimeout, idleTimeout)
    }

    /// When the connection is cut unless something happens first.
    private var expiry: NIODeadline {
        switch phase {
        case .awaitingHead: phaseStarted + headerTimeout
        case .busy: lastActivity + idleTimeout
        case .idle: phaseStarted + idleTimeout
        }
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        stop()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        stop()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastActivity = context.eventLoop.now
        if phase == .idle { enter(.awaitingHead, context: context) }
        context.fireChannelRead(data)
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard let event = event as? RequestCycleEvent else {
            context.triggerUserOutboundEvent(event, promise: promise)
            return
        }
        switch event {
        case .headReceived: enter(.busy, context: context)
        case .responseCompleted: enter(.idle, context: context)
        }
        promise?.succeed()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        lastActivity = context.eventLoop.now
        context.write(data, promise: promise)
    }

    private func start(context: ChannelHandlerContext) {
        guard timer == nil else { return }
        enter(.awaitingHead, context: context)
        schedule(context: context)
    }

    private func stop() {
        timer?.cancel()
        timer = nil
    }

    private func enter(_ phase: Phase, context: ChannelHandlerContext) {
        self.phase = phase
        phaseStarted = context.eventLoop.now
        lastActivity = phaseStarted
    }

    /// Looks again at the phase's deadline, or `checkInterval` from now if that is sooner.
    private func schedule(context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(deadline: min(expiry, context.eventLoop.now + checkInterval)) {
            let (handler, context) = loopBound.value
            handler.check(context: context)
        }
    }

    /// Cuts the connection when its phase's deadline has passed; a request in progress hears of it first.
    private func check(context: ChannelHandlerContext) {
        guard context.eventLoop.now >= expiry else {
            schedule(context: context)
            return
        }
        timer = nil
        if phase == .busy { context.fireUserInboundEventTriggered(RequestIdleTimeoutEvent()) }
        context.close(promise: nil)
    }
}
