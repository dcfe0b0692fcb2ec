import NIOCore

/// Makes the flushes of one event-loop tick one flush, on an HTTP/2 connection.
///
/// Each stream flushes the connection when its answer ends, and the upstream answers of many
/// streams arrive in the same tick (one wake-up, several upstream sockets readable): flushed one by
/// one, each would be its own TLS record and its own write syscall. Sitting between the TLS handler
/// and NIOHTTP2, this turns a flush into one task that runs once the tick's I/O is handled, so the
/// tick's frames leave in one write. A close flushes first, so no written frame is lost.
final class FlushCoalescer: ChannelOutboundHandler {
    typealias OutboundIn = NIOAny

    private var flushScheduled = false

    func flush(context: ChannelHandlerContext) {
        guard !flushScheduled else { return }
        flushScheduled = true
        context.eventLoop.assumeIsolated().execute { self.flushNow(context) }
    }

    /// A flush still scheduled when the connection's pipeline is torn down has nothing left to do.
    func handlerRemoved(context: ChannelHandlerContext) { flushScheduled = false }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        flushNow(context)
        context.close(mode: mode, promise: promise)
    }

    private func flushNow(_ context: ChannelHandlerContext) {
        guard flushScheduled else { return }
        flushScheduled = false
        context.flush()
    }
}
