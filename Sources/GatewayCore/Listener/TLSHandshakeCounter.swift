import Metrics
import NIOCore
import NIOSSL
import NIOTLS

/// Counts TLS handshakes that complete and those that fail (a connection that errs or closes
/// before its handshake is done). Sits right after the TLS handler and removes itself once the
/// handshake is over.
final class TLSHandshakeCounter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private let completed: Metrics.Counter
    private let failed: Metrics.Counter
    private var counted = false

    init(_ metrics: GatewayMetrics) {
        completed = metrics.tlsHandshakes
        failed = metrics.tlsHandshakeFailures
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        context.fireUserInboundEventTriggered(event)
        if case .handshakeCompleted = event as? TLSUserEvent, !counted {
            counted = true
            completed.increment()
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        countFailure()
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        countFailure()
        context.fireChannelInactive()
    }

    private func countFailure() {
        guard !counted else { return }
        counted = true
        failed.increment()
    }
}
