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
///   under the new certificate and settings), it goes away gracefully: open streams finish, and the
///   connection closes once none is open.
///
/// Going away takes two GOAWAYs (RFC 9113 §6.8): the first names the highest stream id, so that
/// streams the client opened before it saw it are still served, and a PING follows it; once the
/// PING is acknowledged (or after `idle_timeout`, for a client that never acknowledges), the second
/// names the last stream taken, and NIOHTTP2 refuses later ones. NIOHTTP2's
/// `NIOHTTP2ServerConnectionManagementHandler` does the same, but starts its idle timer in
/// `channelActive`, which passed before ALPN chose HTTP/2, and waits for the PING without a limit.
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
    private var goingAway = GoingAway.no
    private var idleTimer: Scheduled<Void>?

    private enum GoingAway {
        case no
        /// The first GOAWAY and its PING are sent; new streams are still taken.
        case announced(Scheduled<Void>)
        /// The last stream is named; the connection closes once no stream is open.
        case final
    }

    private static let goAwayPing = HTTP2PingData(withInteger: 0x676f_6177_6179_2121)

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
        cancelTimers()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelTimers()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .ping(let ping, ack: true) = unwrapInboundIn(data).payload, ping == Self.goAwayPing {
            nameLastStream()
        }
        context.fireChannelRead(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent { goAway() }
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
        switch goingAway {
        case .final:
            closeSoon()
        case .announced:
            break
        case .no:
            idleTimer = context.eventLoop.assumeIsolated().scheduleTask(in: idleTimeout) { [weak self] () -> Void in self?.goAway() }
        }
    }

    /// The first GOAWAY, naming the highest stream id, and a PING whose acknowledgement shows that
    /// the client saw it.
    private func goAway() {
        guard case .no = goingAway, let context else { return }
        let deadline = context.eventLoop.assumeIsolated().scheduleTask(in: idleTimeout) { [weak self] () -> Void in self?.nameLastStream() }
        goingAway = .announced(deadline)
        context.write(wrapOutboundOut(Self.goAwayFrame(lastStreamID: .maxID)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(HTTP2Frame(streamID: .rootStream, payload: .ping(Self.goAwayPing, ack: false))), promise: nil)
    }

    /// The second GOAWAY, naming the last stream taken: NIOHTTP2 refuses streams the client opens
    /// later, which it knows it may retry on a new connection.
    private func nameLastStream() {
        guard case .announced(let deadline) = goingAway, let context else { return }
        deadline.cancel()
        goingAway = .final
        context.writeAndFlush(wrapOutboundOut(Self.goAwayFrame(lastStreamID: lastStreamID)), promise: nil)
        if openStreams == 0 { closeSoon() }
    }

    private static func goAwayFrame(lastStreamID: HTTP2StreamID) -> HTTP2Frame {
        HTTP2Frame(streamID: .rootStream, payload: .goAway(lastStreamID: lastStreamID, errorCode: .noError, opaqueData: nil))
    }

    private func cancelTimers() {
        idleTimer?.cancel()
        if case .announced(let deadline) = goingAway { deadline.cancel() }
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
