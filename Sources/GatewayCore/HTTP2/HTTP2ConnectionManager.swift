import NIOCore
import NIOHTTP2

/// Runs an HTTP/2 connection's life around its streams: the timeouts, graceful shutdown and reloads.
///
/// Sits after `NIOHTTP2Handler`, which tells it of each stream opened and closed (``streamDelegate``).
/// - Until the first stream opens, the connection's ``ConnectionTimeoutHandler`` cuts a client that
///   does not complete a request within `request_header_timeout` (TLS and the preface included);
///   the first stream removes it, and this handler takes over.
/// - With no stream open for `idle_timeout`, the connection says GOAWAY and closes.
/// - Asked to quiesce (drain), or when a stream opens after a reload (so that the client reconnects
///   under the new certificate and settings), it says GOAWAY naming the last stream it took: open
///   streams finish, later ones are refused, and the connection closes once none is open.
///
/// NIOHTTP2's `NIOHTTP2ServerConnectionManagementHandler` is not used: it starts its idle timer in
/// `channelActive`, which passed before ALPN chose HTTP/2, and between its two GOAWAYs it waits for
/// a PING acknowledgement that a client may never send, keeping the connection open.
final class HTTP2ConnectionManager: ChannelInboundHandler {
    typealias InboundIn = HTTP2Frame
    typealias OutboundOut = HTTP2Frame

    private let idleTimeout: TimeAmount
    /// Whether the serving generation was replaced since the connection began.
    private let reloaded: () -> Bool
    private var context: ChannelHandlerContext?
    private var openStreams = 0
    private var lastStreamID = HTTP2StreamID.rootStream
    private var sawFirstStream = false
    private var goingAway = false
    private var idleTimer: Scheduled<Void>?

    init(idleTimeout: TimeAmount, reloaded: @escaping () -> Bool) {
        self.idleTimeout = idleTimeout
        self.reloaded = reloaded
    }

    /// Tells this handler of the streams NIOHTTP2 opens and closes; give it to the `NIOHTTP2Handler`.
    func streamDelegate(on eventLoop: any EventLoop) -> some NIOHTTP2StreamDelegate {
        Delegate(manager: NIOLoopBound(self, eventLoop: eventLoop))
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) {
        idleTimer?.cancel()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        idleTimer?.cancel()
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            goAway()
            if openStreams == 0 { closeSoon() }
        }
        context.fireUserInboundEventTriggered(event)
    }

    private func streamOpened(_ id: HTTP2StreamID) {
        openStreams += 1
        lastStreamID = max(lastStreamID, id)
        idleTimer?.cancel()
        idleTimer = nil
        if !sawFirstStream, let context {
            sawFirstStream = true
            let sync = context.pipeline.syncOperations
            if let timeouts = try? sync.context(handlerType: ConnectionTimeoutHandler.self) {
                sync.removeHandler(context: timeouts, promise: nil)
            }
        }
        if reloaded() { goAway() }
    }

    private func streamClosed() {
        openStreams -= 1
        guard openStreams == 0, let context else { return }
        if goingAway {
            closeSoon()
        } else {
            idleTimer = context.eventLoop.assumeIsolated().scheduleTask(in: idleTimeout) { [weak self] in
                self?.goAway()
                self?.closeSoon()
            }
        }
    }

    /// GOAWAY naming the last stream taken: NIOHTTP2 then ignores streams the client opens later,
    /// which the client knows it may retry on a new connection (RFC 9113 §6.8).
    private func goAway() {
        guard !goingAway, let context else { return }
        goingAway = true
        let frame = HTTP2Frame(streamID: .rootStream, payload: .goAway(lastStreamID: lastStreamID, errorCode: .noError, opaqueData: nil))
        context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
    }

    /// Closes on the next loop tick: a stream's last frame may be written but not yet flushed.
    private func closeSoon() {
        guard let context else { return }
        context.eventLoop.assumeIsolated().execute { context.close(promise: nil) }
    }

    private struct Delegate: NIOHTTP2StreamDelegate {
        let manager: NIOLoopBound<HTTP2ConnectionManager>

        func streamCreated(_ id: HTTP2StreamID, channel: any Channel) { manager.value.streamOpened(id) }

        func streamClosed(_ id: HTTP2StreamID, channel: any Channel) { manager.value.streamClosed() }
    }
}
