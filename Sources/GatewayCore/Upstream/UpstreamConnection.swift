import NIOCore
import NIOHTTP1

/// Receives what an upstream connection produces while it is leased to one exchange.
protocol UpstreamResponseSink: AnyObject {
    func upstreamReceived(_ part: HTTPClientResponsePart)
    func upstreamReadComplete()
    /// The connection closed or failed before the response ended.
    func upstreamFailed()
    func upstreamWritabilityChanged(isWritable: Bool)
}

/// The last handler of an upstream channel: hands response parts to the leasing exchange and lets
/// it apply backpressure by holding reads. Loop-confined, like its channel.
final class UpstreamConnection: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = HTTPClientRequestPart

    /// The exchange using this connection; `nil` while it sits in the pool.
    var sink: (any UpstreamResponseSink)?
    /// Called once when the channel goes away, so the pool can forget it.
    var onClose: ((UpstreamConnection) -> Void)?
    private(set) var context: ChannelHandlerContext?
    private var readsHeld = false
    private var readPending = false

    var channel: any Channel { context!.channel }
    var isActive: Bool { context?.channel.isActive ?? false }
    var isWritable: Bool { context?.channel.isWritable ?? false }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    /// Drops the context, which holds this handler: the two would otherwise keep each other alive.
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let sink else {
            // An idle pooled connection must stay silent; anything else means it cannot be trusted.
            context.close(promise: nil)
            return
        }
        sink.upstreamReceived(unwrapInboundIn(data))
    }

    func channelReadComplete(context: ChannelHandlerContext) { sink?.upstreamReadComplete() }

    func channelInactive(context: ChannelHandlerContext) {
        let sink = self.sink
        self.sink = nil
        onClose?(self)
        onClose = nil
        sink?.upstreamFailed()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        sink?.upstreamWritabilityChanged(isWritable: context.channel.isWritable)
        context.fireChannelWritabilityChanged()
    }

    func read(context: ChannelHandlerContext) {
        if readsHeld {
            readPending = true
        } else {
            context.read()
        }
    }

    /// Stops reading from the upstream until ``resumeReads()``: the client is not keeping up.
    func holdReads() { readsHeld = true }

    func resumeReads() {
        readsHeld = false
        if readPending, let context {
            readPending = false
            context.read()
        }
    }

    func write(_ part: HTTPClientRequestPart) {
        context?.write(wrapOutboundOut(part), promise: nil)
    }

    func flush() { context?.flush() }

    /// Closes the connection without telling the sink: used when the exchange gives it up.
    func abandon() {
        sink = nil
        context?.close(promise: nil)
    }
}
