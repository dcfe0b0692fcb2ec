import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// The plain-HTTP listener's answer: `308 Permanent Redirect` to the same target over https, but
/// for `GET /.well-known/acme-challenge/TOKEN` when `acme_challenge_dir` is set, which is answered
/// from that directory (read on NIO's thread pool) or with 404. A keep-alive connection then waits
/// `idle_timeout` for its next request.
final class RedirectHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let httpsPort: Int
    private let fallbackHost: String
    private let challenges: ACMEChallengeDirectory?
    private let logger: Logger

    init(httpsPort: Int, fallbackHost: String, challenges: ACMEChallengeDirectory? = nil, logger: Logger) {
        self.httpsPort = httpsPort
        self.fallbackHost = fallbackHost
        self.challenges = challenges
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(let head) = unwrapInboundIn(data) else { return }
        context.triggerUserOutboundEvent(RequestCycleEvent.headReceived, promise: nil)
        guard let challenges, head.method == .GET, let token = ACMEChallengeDirectory.token(in: head.uri) else {
            var headers = HTTPHeaders()
            headers.add(name: "Location", value: location(for: head))
            respond(context, to: head, status: .permanentRedirect, headers: headers, body: nil)
            return
        }
        let file = NIOThreadPool.singleton.runIfActive(eventLoop: context.eventLoop) { challenges.keyAuthorization(token: token) }
        file.assumeIsolated().whenComplete { result in
            guard context.channel.isActive else { return }
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "text/plain")
            headers.add(name: "Cache-Control", value: "no-store")
            headers.add(name: "X-Content-Type-Options", value: "nosniff")
            guard case .success(let body?) = result else {
                // Debug only: anyone can ask for tokens that do not exist, as fast as they like.
                self.logger.debug("no such ACME challenge", metadata: ["gateway.token": "\(token)"])
                var notFound = context.channel.allocator.buffer(capacity: 32)
                notFound.writeString("no such ACME challenge\n")
                self.respond(context, to: head, status: .notFound, headers: headers, body: notFound)
                return
            }
            self.logger.info("ACME challenge answered", metadata: ["gateway.token": "\(token)"])
            self.respond(context, to: head, status: .ok, headers: headers, body: body)
        }
    }

    /// Writes one complete response, with its `Content-Length`; closes the connection after it
    /// unless the request asked to keep it alive.
    private func respond(
        _ context: ChannelHandlerContext, to head: HTTPRequestHead, status: HTTPResponseStatus, headers: HTTPHeaders,
        body: ByteBuffer?
    ) {
        var headers = headers
        headers.add(name: "Content-Length", value: "\(body?.readableBytes ?? 0)")
        if !head.isKeepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
        if let body { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if head.isKeepAlive {
            context.triggerUserOutboundEvent(RequestCycleEvent.responseCompleted, promise: nil)
        } else {
            done.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }

    /// `https://HOST[:PORT]TARGET`, with the Host header's name only when it is a plain host name.
    func location(for head: HTTPRequestHead) -> String {
        let host = head.headers.first(name: "host").flatMap(HeaderRules.hostName) ?? fallbackHost
        let authority = httpsPort == 443 ? host : "\(host):\(httpsPort)"
        let target = Self.isSafeTarget(head.uri) ? head.uri : "/"
        return "https://\(authority)\(target)"
    }

    static func isSafeTarget(_ target: String) -> Bool {
        target.hasPrefix("/") && !target.hasPrefix("//") && target.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
    }
}

extension UInt8 {
    var isASCIIAlphanumeric: Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(self) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(self)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self)
    }
}
