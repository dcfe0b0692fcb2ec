import NIOCore
import NIOHPACK
import NIOHTTP2

/// The first handler of every HTTP/2 stream: what NIOHTTP2 and its HTTP/1 codec leave unchecked
/// before the stream's request joins the HTTP/1.1 request path, and what a stream error means there.
///
/// NIOHTTP2 already resets a stream (RST_STREAM `PROTOCOL_ERROR`) whose header block is malformed:
/// connection-specific fields (`Connection`, `Keep-Alive`, `Proxy-Connection`, `Transfer-Encoding`,
/// `Upgrade`, `TE` other than `trailers`; RFC 9113 §8.2.2), upper-case or invalid names and values,
/// missing or repeated pseudo-headers, and a `content-length` that its DATA frames disagree with.
/// This guard adds, on the request's first HEADERS:
/// - `:authority` and `Host` must name the same authority (RFC 9113 §8.3.1); with only `Host`,
///   `Host` is the authority; with neither, or with CONNECT (never routed), the stream is reset
///   with `PROTOCOL_ERROR`;
/// - several `cookie` fields become one, joined with `; ` (RFC 9113 §8.2.3), as HTTP/1.1 has it;
/// - a GET, HEAD, DELETE or TRACE whose HEADERS does not end the stream and that states no
///   `content-length` gets `transfer-encoding: chunked`, which the codec states for other methods,
///   so that DATA it sends reaches the upstream framed, never as bytes the upstream would read as
///   another request.
///
/// A stream error passes here as the stream ends: it is not handed on as a bad request (the peer
/// already got RST_STREAM), and the request handler sees its channel close (access log: aborted).
/// A stream with no frame in either direction for `idleTimeout` is reset (`CANCEL`), after
/// ``RequestIdleTimeoutEvent`` tells the request handler.
final class HTTP2StreamGuard: ChannelDuplexHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias InboundOut = HTTP2Frame.FramePayload
    typealias OutboundIn = HTTP2Frame.FramePayload
    typealias OutboundOut = HTTP2Frame.FramePayload

    private let idleTimeout: TimeAmount
    private var sawHead = false
    private var lastActivity = NIODeadline.uptimeNanoseconds(0)
    private var idleCheck: Scheduled<Void>?

    /// Methods the HTTP/2-to-HTTP/1 codec leaves without body framing when no `content-length` is sent.
    private static let unframedMethods: Set<String> = ["GET", "HEAD", "DELETE", "TRACE"]

    init(idleTimeout: TimeAmount) {
        self.idleTimeout = idleTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        lastActivity = context.eventLoop.now
        scheduleIdleCheck(after: idleTimeout, context: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        idleCheck?.cancel()
        idleCheck = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        idleCheck?.cancel()
        idleCheck = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastActivity = context.eventLoop.now
        guard !sawHead, case .headers(var headers) = unwrapInboundIn(data) else {
            context.fireChannelRead(data)
            return
        }
        sawHead = true
        guard Self.admit(&headers) else {
            context.writeAndFlush(wrapOutboundOut(.rstStream(.protocolError)), promise: nil)
            context.close(promise: nil)
            return
        }
        context.fireChannelRead(wrapInboundOut(.headers(headers)))
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        lastActivity = context.eventLoop.now
        context.write(data, promise: promise)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // NIOHTTP2 reports stream errors (after resetting the stream) and the peer's RST_STREAM here.
        if error is any NIOHTTP2Error {
            context.close(promise: nil)
        } else {
            context.fireErrorCaught(error)
        }
    }

    /// Checks and completes a request's header block; false when it is malformed.
    static func admit(_ block: inout HTTP2Frame.FramePayload.Headers) -> Bool {
        guard let method = block.headers.first(name: ":method"), method != "CONNECT" else { return false }
        let hosts = block.headers["host"]
        if let authority = block.headers.first(name: ":authority") {
            guard hosts.allSatisfy({ $0.lowercased() == authority.lowercased() }) else { return false }
        } else {
            guard hosts.count == 1 else { return false }
            block.headers.add(name: ":authority", value: hosts[0])
        }
        let cookies = block.headers["cookie"]
        if cookies.count > 1 {
            block.headers.remove(name: "cookie")
            block.headers.add(name: "cookie", value: cookies.joined(separator: "; "), indexing: .nonIndexable)
        }
        if !block.endStream, unframedMethods.contains(method), !block.headers.contains(name: "content-length") {
            block.headers.add(name: "transfer-encoding", value: "chunked")
        }
        return true
    }

    /// Resets the stream once it has been quiet for `idleTimeout`, checking when it first could have been.
    private func scheduleIdleCheck(after delay: TimeAmount, context: ChannelHandlerContext) {
        idleCheck?.cancel()
        idleCheck = context.eventLoop.assumeIsolated().scheduleTask(in: delay) { [weak self, context] in
            guard let self else { return }
            let quiet = context.eventLoop.now - self.lastActivity
            if quiet >= self.idleTimeout {
                context.fireUserInboundEventTriggered(RequestIdleTimeoutEvent())
                context.close(promise: nil)
            } else {
                self.scheduleIdleCheck(after: self.idleTimeout - quiet, context: context)
            }
        }
    }
}
