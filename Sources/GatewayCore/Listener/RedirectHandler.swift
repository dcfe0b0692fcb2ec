import NIOCore
import NIOHTTP1

/// The plain-HTTP listener's only answer: `308 Permanent Redirect` to the same target over https.
/// A keep-alive connection then waits `idle_timeout` for its next request.
final class RedirectHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let httpsPort: Int
    private let fallbackHost: String

    init(httpsPort: Int, fallbackHost: String) {
        self.httpsPort = httpsPort
        self.fallbackHost = fallbackHost
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(let head) = unwrapInboundIn(data) else { return }
        context.triggerUserOutboundEvent(RequestCycleEvent.headReceived, promise: nil)
        var headers = HTTPHeaders()
        headers.add(name: "Location", value: location(for: head))
        headers.add(name: "Content-Length", value: "0")
        if !head.isKeepAlive { headers.add(name: "Connection", value: "close") }
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .permanentRedirect, headers: headers))), promise: nil)
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
