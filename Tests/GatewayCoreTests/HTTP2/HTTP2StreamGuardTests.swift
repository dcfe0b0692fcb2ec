import NIOCore
import NIOEmbedded
import NIOHPACK
import NIOHTTP2
import Testing

@testable import GatewayCore

@Suite("HTTP/2 stream guard: the request's first HEADERS")
struct HTTP2StreamGuardTests {
    static func request(
        _ method: String = "GET", authority: String? = "api.example.com", fields: [(String, String)] = [], endStream: Bool = true
    ) -> HTTP2Frame.FramePayload.Headers {
        var headers = HPACKHeaders([(":method", method), (":scheme", "https"), (":path", "/x")])
        if let authority { headers.add(name: ":authority", value: authority) }
        headers.add(contentsOf: fields)
        return HTTP2Frame.FramePayload.Headers(headers: headers, endStream: endStream)
    }

    @Test("a Host naming the :authority, in any letter case, passes as it is")
    func matchingHost() {
        var block = Self.request(authority: "api.example.com:443", fields: [("host", "API.example.com:443")])
        #expect(HTTP2StreamGuard.admit(&block))
        #expect(block.headers["host"] == ["API.example.com:443"])
    }

    @Test("a Host naming another authority is malformed (RFC 9113 §8.3.1)")
    func differingHost() {
        var block = Self.request(fields: [("host", "evil.example")])
        #expect(!HTTP2StreamGuard.admit(&block))
    }

    @Test("Host alone becomes the :authority; neither is malformed")
    func hostAlone() {
        var alone = Self.request(authority: nil, fields: [("host", "api.example.com")])
        #expect(HTTP2StreamGuard.admit(&alone))
        #expect(alone.headers[":authority"] == ["api.example.com"])
        var neither = Self.request(authority: nil)
        #expect(!HTTP2StreamGuard.admit(&neither))
    }

    @Test("CONNECT is refused")
    func connect() {
        var block = Self.request("CONNECT")
        #expect(!HTTP2StreamGuard.admit(&block))
    }

    @Test("several cookie fields become one, joined with '; ' (RFC 9113 §8.2.3)")
    func cookies() {
        var block = Self.request(fields: [("cookie", "a=1"), ("x-other", "y"), ("cookie", "b=2")])
        #expect(HTTP2StreamGuard.admit(&block))
        #expect(block.headers["cookie"] == ["a=1; b=2"])
    }

    @Test(
        "a GET, HEAD, DELETE or TRACE that may carry DATA without content-length is stated chunked",
        arguments: ["GET", "HEAD", "DELETE", "TRACE"])
    func unframedMethods(_ method: String) {
        var open = Self.request(method, endStream: false)
        #expect(HTTP2StreamGuard.admit(&open))
        #expect(open.headers["transfer-encoding"] == ["chunked"])
        var ended = Self.request(method, endStream: true)
        #expect(HTTP2StreamGuard.admit(&ended))
        #expect(!ended.headers.contains(name: "transfer-encoding"))
        var sized = Self.request(method, fields: [("content-length", "5")], endStream: false)
        #expect(HTTP2StreamGuard.admit(&sized))
        #expect(!sized.headers.contains(name: "transfer-encoding"))
    }

    @Test("a POST is left to the codec, which states its framing itself")
    func post() {
        var block = Self.request("POST", endStream: false)
        #expect(HTTP2StreamGuard.admit(&block))
        #expect(!block.headers.contains(name: "transfer-encoding"))
    }

    @Test("a malformed request is reset with PROTOCOL_ERROR and goes no further")
    func resetsMalformed() throws {
        let channel = EmbeddedChannel(handler: HTTP2StreamGuard(idleTimeout: .seconds(60)))
        try channel.writeInbound(HTTP2Frame.FramePayload.headers(Self.request(fields: [("host", "evil.example")])))
        #expect(try channel.readInbound(as: HTTP2Frame.FramePayload.self) == nil)
        guard case .rstStream(let code) = try channel.readOutbound(as: HTTP2Frame.FramePayload.self) else {
            Issue.record("no RST_STREAM")
            return
        }
        #expect(code == .protocolError)
        #expect(!channel.isActive)
    }

    @Test("a stream quiet for idle_timeout is closed; the guard is freed with its channel")
    func idleStream() throws {
        weak var freed: HTTP2StreamGuard?
        let channel: EmbeddedChannel
        do {
            let handler = HTTP2StreamGuard(idleTimeout: .seconds(5))
            freed = handler
            channel = EmbeddedChannel(handler: handler)
        }
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        channel.embeddedEventLoop.advanceTime(by: .seconds(4))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(!channel.isActive)
        _ = try? channel.finish()
        #expect(freed == nil)
    }

    @Test("before it closes a quiet stream, the guard tells the request handler, while the stream is still open")
    func idleStreamEvent() throws {
        let events = IdleEventRecorder()
        let channel = EmbeddedChannel(handlers: [HTTP2StreamGuard(idleTimeout: .seconds(5)), events])
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        channel.embeddedEventLoop.advanceTime(by: .seconds(4))
        #expect(events.seenWhileActive == 0)
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(events.seenWhileActive == 1)
        #expect(!channel.isActive)
        _ = try? channel.finish()
    }
}

/// Counts ``RequestIdleTimeoutEvent``s that arrive while the channel is still active.
private final class IdleEventRecorder: ChannelInboundHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    var seenWhileActive = 0

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is RequestIdleTimeoutEvent, context.channel.isActive { seenWhileActive += 1 }
        context.fireUserInboundEventTriggered(event)
    }
}
