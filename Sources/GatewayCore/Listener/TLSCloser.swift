import NIOCore
import NIOTLS

/// Ends the gateway's side of a TLS connection without keeping it for the client's close_notify.
///
/// Asked to close, NIOSSL sends close_notify and then waits up to 5 s for the client's; when the
/// client just closes its socket instead (most do), that wait's timer is not cancelled, and it
/// keeps the TLS handler, its buffers and its SSL state for 5 s after every such connection, so
/// memory grows with the rate of closed connections. Sitting right after the TLS handler, this turns
/// the pipeline's close into close_notify and a half-close once the last response byte is written,
/// then the socket's close issued beneath the TLS handler: at once when that is done, and at the
/// latest after `lingerTimeout`. Before the handshake is over there is nothing to end cleanly, so the
/// socket closes at once.
final class TLSCloser: ChannelDuplexHandler {
    typealias InboundIn = NIOAny
    typealias OutboundIn = NIOAny

    /// The name the TLS handler has in the pipeline: closes are issued from its context, beneath it.
    static let tlsHandlerName = "tls"

    private let lingerTimeout: TimeAmount
    private var handshakeCompleted = false
    /// Set once a close is under way: later closes wait for it.
    private var closed: EventLoopFuture<Void>?
    private var linger: Scheduled<Void>?

    init(lingerTimeout: TimeAmount) {
        self.lingerTimeout = lingerTimeout
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted = event as? TLSUserEvent { handshakeCompleted = true }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        linger?.cancel()
        linger = nil
        context.fireChannelInactive()
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        if let closed {
            closed.cascade(to: promise)
            return
        }
        guard mode == .all, let tls = try? context.pipeline.syncOperations.context(name: Self.tlsHandlerName) else {
            context.close(mode: mode, promise: promise)
            return
        }
        let socketClosed = context.eventLoop.makePromise(of: Void.self)
        closed = socketClosed.futureResult
        socketClosed.futureResult.cascade(to: promise)
        guard handshakeCompleted, context.channel.isActive else {
            tls.close(promise: socketClosed)
            return
        }
        linger = context.eventLoop.assumeIsolated().scheduleTask(in: lingerTimeout) { tls.close(promise: nil) }
        let outputClosed = context.eventLoop.makePromise(of: Void.self)
        context.close(mode: .output, promise: outputClosed)
        outputClosed.futureResult.assumeIsolated().whenComplete { _ in tls.close(promise: socketClosed) }
    }
}
