import NIOCore
import NIOHTTP1

/// One admin connection's requests, behind NIO's HTTP/1 codec with pipelining assistance (one
/// request answered at a time): admits each head, reads at most ``AdminConfig/maxBodyBytes`` of
/// body, and answers once the request has ended. Slow answers (`/readyz`, a reset) are computed
/// off the event loop and written back on it.
final class AdminHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        /// Waiting for a request head.
        case idle
        /// Reading the body of an admitted request.
        case reading(AdminRequest, keepAlive: Bool, bodyBytes: Int)
        /// Answered or answering; what is left of the request is ignored.
        case answering
    }

    private let endpoints: AdminEndpoints
    private var state = State.idle

    init(endpoints: AdminEndpoints) {
        self.endpoints = endpoints
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch (unwrapInboundIn(data), state) {
        case (.head(let head), _):
            context.triggerUserOutboundEvent(RequestCycleEvent.headReceived, promise: nil)
            do {
                let request = try endpoints.admit(head, peer: context.channel.remoteAddress)
                state = .reading(request, keepAlive: head.isKeepAlive, bodyBytes: 0)
            } catch {
                state = .answering
                // A refused request's body is not read: the connection closes after the answer.
                let hasBody = head.headers.contains(name: "transfer-encoding") || head.headers["content-length"].contains { $0 != "0" }
                respond(.problem(error), keepAlive: head.isKeepAlive && !hasBody, context: context)
            }
        case (.body(let part), .reading(let request, let keepAlive, let bodyBytes)):
            let total = bodyBytes + part.readableBytes
            guard total <= AdminConfig.maxBodyBytes else {
                state = .answering
                respond(.problem(.bodyTooLarge), keepAlive: false, context: context)
                return
            }
            state = .reading(request, keepAlive: keepAlive, bodyBytes: total)
        case (.end, .reading(let request, let keepAlive, _)):
            state = .answering
            switch endpoints.answer(request) {
            case .now(let response):
                respond(response, keepAlive: keepAlive, context: context)
            case .later(let work):
                context.eventLoop.makeFutureWithTask(work).assumeIsolated().whenSuccess { response in
                    guard context.channel.isActive else { return }
                    self.respond(response, keepAlive: keepAlive, context: context)
                }
            }
        case (.body, _), (.end, _):
            break
        }
    }

    /// Writes `response`; then waits for the next request, or closes.
    private func respond(_ response: AdminResponse, keepAlive: Bool, context: ChannelHandlerContext) {
        let keepAlive = keepAlive && !response.closesConnection
        var headers = HTTPHeaders(response.headers)
        headers.add(name: "Content-Length", value: String(response.body.count))
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: response.status, headers: headers))), promise: nil)
        if !response.body.isEmpty {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: response.body)))), promise: nil)
        }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if keepAlive {
            state = .idle
            context.triggerUserOutboundEvent(RequestCycleEvent.responseCompleted, promise: nil)
        } else {
            done.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }
}
