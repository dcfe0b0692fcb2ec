import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOTLS
import Testing

@testable import GatewayCore

/// The connection-level handlers on an `EmbeddedChannel`, whose clock the tests move.
@Suite("Listener handlers")
struct ListenerHandlerTests {
    static func connected(_ handlers: [any ChannelHandler]) async throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandlers(handlers)
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 40_200))
        return channel
    }

    @Test("request_header_timeout closes a connection whose head has not come; it is counted from the connection's start")
    func headerTimeout() async throws {
        let channel = try await Self.connected([ConnectionTimeoutHandler(headerTimeout: .seconds(5), idleTimeout: .seconds(60))])
        try channel.writeInbound(ByteBuffer(string: "GET / HTTP/1.1\r\n"))
        channel.embeddedEventLoop.advanceTime(by: .seconds(4))
        #expect(channel.isActive, "bytes of a head do not restart the head's deadline")
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(!channel.isActive)
    }

    @Test("after an answer, idle_timeout closes a keep-alive connection that sends nothing; a byte in time gets a head timeout")
    func idleTimeout() async throws {
        let timeouts = ConnectionTimeoutHandler(headerTimeout: .seconds(5), idleTimeout: .seconds(30))
        let channel = try await Self.connected([timeouts])
        channel.pipeline.triggerUserOutboundEvent(RequestCycleEvent.headReceived, promise: nil)
        channel.pipeline.triggerUserOutboundEvent(RequestCycleEvent.responseCompleted, promise: nil)
        channel.embeddedEventLoop.advanceTime(by: .seconds(29))
        #expect(channel.isActive)
        try channel.writeInbound(ByteBuffer(string: "G"))
        channel.embeddedEventLoop.advanceTime(by: .seconds(4))
        #expect(channel.isActive, "the next head has request_header_timeout from its first byte")
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(!channel.isActive)

        let quiet = try await Self.connected([ConnectionTimeoutHandler(headerTimeout: .seconds(5), idleTimeout: .seconds(30))])
        quiet.pipeline.triggerUserOutboundEvent(RequestCycleEvent.headReceived, promise: nil)
        quiet.pipeline.triggerUserOutboundEvent(RequestCycleEvent.responseCompleted, promise: nil)
        quiet.embeddedEventLoop.advanceTime(by: .seconds(31))
        #expect(!quiet.isActive)
    }

    @Test("the redirect listener answers 308 to the same host and target over HTTPS, closing when the client asked")
    func redirect() async throws {
        let channel = try await Self.connected([RedirectHandler(httpsPort: 8443, fallbackHost: "gw.example", logger: Logger(label: "test"))]
        )
        var headers: HTTPHeaders = ["Host": "api.example:80", "Connection": "close"]
        try channel.writeInbound(
            HTTPServerRequestPart.head(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/a?b=1", headers: headers)))
        guard case .head(let answer) = try channel.readOutbound(as: HTTPServerResponsePart.self) else {
            Issue.record("no response head")
            return
        }
        #expect(answer.status == .permanentRedirect)
        #expect(answer.headers["location"] == ["https://api.example:8443/a?b=1"])
        channel.embeddedEventLoop.run()
        #expect(!channel.isActive)

        let unsafe = try await Self.connected([RedirectHandler(httpsPort: 443, fallbackHost: "gw.example", logger: Logger(label: "test"))])
        headers = ["Host": "evil.example/x"]
        try unsafe.writeInbound(
            HTTPServerRequestPart.head(HTTPRequestHead(version: .http1_1, method: .GET, uri: "//evil", headers: headers)))
        guard case .head(let fallback) = try unsafe.readOutbound(as: HTTPServerResponsePart.self) else {
            Issue.record("no response head")
            return
        }
        #expect(fallback.headers["location"] == ["https://gw.example/"], "a malformed Host and a scheme-relative target are not echoed")
        #expect(unsafe.isActive)
    }

    @Test("a keep-alive redirect connection waits idle_timeout for its next request, not the head deadline of its first")
    func redirectKeepAlive() async throws {
        let channel = try await Self.connected([
            ConnectionTimeoutHandler(headerTimeout: .seconds(5), idleTimeout: .seconds(30)),
            RedirectHandler(httpsPort: 8443, fallbackHost: "gw.example", logger: Logger(label: "test")),
        ])
        try channel.writeInbound(
            HTTPServerRequestPart.head(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/", headers: ["Host": "gw.example"])))
        channel.embeddedEventLoop.advanceTime(by: .seconds(10))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(21))
        #expect(!channel.isActive)
    }

    /// Records the user events that reach it.
    final class EventRecorder: ChannelInboundHandler {
        typealias InboundIn = NIOAny
        var events: [TLSUserEvent] = []

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if let event = event as? TLSUserEvent { events.append(event) }
        }
    }

    @Test("the handshake acknowledger passes the handshake on (ALPN waits for it), then leaves the pipeline")
    func handshakeAcknowledger() async throws {
        let recorder = EventRecorder()
        let channel = try await Self.connected([HandshakeAcknowledger(), recorder])
        channel.pipeline.fireUserInboundEventTriggered(TLSUserEvent.handshakeCompleted(negotiatedProtocol: "h2"))
        channel.embeddedEventLoop.run()
        #expect(recorder.events == [.handshakeCompleted(negotiatedProtocol: "h2")])
        #expect(throws: (any Error).self) { try channel.pipeline.syncOperations.handler(type: HandshakeAcknowledger.self) }
    }
}
