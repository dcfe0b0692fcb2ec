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
/// On HTTP/2 the connection's first stream removes it (``HTTP2ConnectionManager`` takes over).
final class ConnectionTimeoutHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum Phase { case awaitingHead, busy, idle }

    private let headerTimeout: TimeAmount
    private let idleTimeout: TimeAmount
    private var phase = Phase.awaitingHead
    private var deadline: Scheduled<Void>?
    private var lastActivity = NIODeadline.now()

    init(headerTimeout: TimeAmount, idleTimeout: TimeAmount) {
        self.headerTimeout = headerTimeout
        self.idleTimeout = idleTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(headerTimeout, context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(headerTimeout, context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastActivity = .now()
        if phase == .idle {
            phase = .awaitingHead
            arm(headerTimeout, context: context)
        }
        context.fireChannelRead(data)
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard let event = event as? RequestCycleEvent else {
            context.triggerUserOutboundEvent(event, promise: promise)
            return
        }
        switch event {
        case .headReceived:
            phase = .busy
            lastActivity = .now()
            armInactivityCheck(after: idleTimeout, context: context)
        case .responseCompleted:
            phase = .idle
            arm(idleTimeout, context: context)
        }
        promise?.succeed()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        lastActivity = .now()
        context.write(data, promise: promise)
    }

    /// While busy, checks for inactivity when it could first have lasted `idle_timeout`.
    private func armInactivityCheck(after delay: TimeAmount, context: ChannelHandlerContext) {
        deadline?.cancel()
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        deadline = context.eventLoop.scheduleTask(in: delay) {
            let (handler, context) = loopBound.value
            guard handler.phase == .busy else { return }
            let quiet = NIODeadline.now() - handler.lastActivity
            if quiet >= handler.idleTimeout {
                context.fireUserInboundEventTriggered(RequestIdleTimeoutEvent())
                context.close(promise: nil)
            } else {
                handler.armInactivityCheck(after: handler.idleTimeout - quiet, context: context)
            }
        }
    }

    private func arm(_ timeout: TimeAmount, context: ChannelHandlerContext) {
        deadline?.cancel()
        let channel = context.channel
        deadline = context.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
    }
}
