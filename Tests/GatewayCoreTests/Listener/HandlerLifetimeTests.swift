import Foundation
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOTLS
import Testing

@testable import GatewayCore

/// Every handler a connection's pipeline creates is freed with its channel: no handler and
/// context keep each other, no timer or callback outlives the connection.
@Suite("Handlers die with their connection")
struct HandlerLifetimeTests {
    @Test("the client pipeline and what its proxy handler held are freed after answering and closing")
    func clientPipelineIsFreed() async throws {
        let runtime = try HandlerFixture.runtime()
        weak var proxy: ProxyHandler?
        weak var timeouts: ConnectionTimeoutHandler?
        weak var closer: TLSCloser?
        weak var channelRef: EmbeddedChannel?
        do {
            let channel = EmbeddedChannel()
            let handlers = try HandlerFixture.clientPipeline(on: channel, runtime: runtime)
            (proxy, timeouts, closer, channelRef) = (handlers.proxy, handlers.timeouts, handlers.closer, channel)
            try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 40_000))
            // Answered by the gateway itself: no route, then a refused token that closes the connection.
            try channel.writeInbound(ByteBuffer(string: "GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n"))
            try channel.writeInbound(ByteBuffer(string: "GET /api HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
            let answered = try HandlerFixture.readAll(channel)
            #expect(answered.contains("HTTP/1.1 404"))
            #expect(answered.contains("HTTP/1.1 401"))
            channel.embeddedEventLoop.run()
            #expect(!channel.isActive)
        }
        #expect(channelRef == nil)
        #expect(proxy == nil)
        #expect(timeouts == nil)
        #expect(closer == nil)
    }

    @Test("a connection closed by the client mid-request frees its handlers")
    func closedByClient() async throws {
        let runtime = try HandlerFixture.runtime()
        weak var proxy: ProxyHandler?
        do {
            let channel = EmbeddedChannel()
            proxy = try HandlerFixture.clientPipeline(on: channel, runtime: runtime).proxy
            try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 40_001))
            try channel.writeInbound(ByteBuffer(string: "GET /nowhere HTTP/1.1\r\nHost: x\r\n"))
            try await channel.close()
            channel.embeddedEventLoop.run()
        }
        #expect(proxy == nil)
    }

    @Test("an upstream connection and its last sink are freed when the upstream closes")
    func upstreamConnectionIsFreed() async throws {
        weak var connection: UpstreamConnection?
        weak var sink: RecordingSink?
        do {
            let channel = EmbeddedChannel()
            let handler = UpstreamConnection()
            let recording = RecordingSink()
            (connection, sink) = (handler, recording)
            try channel.pipeline.syncOperations.addHandler(handler)
            handler.sink = recording
            handler.onClose = { _ in recording.closed = true }
            try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8081))
            try await channel.close()
            channel.embeddedEventLoop.run()
            #expect(recording.failed)
        }
        #expect(connection == nil)
        #expect(sink == nil)
    }

    @Test("the connection limiter lets go of a closed connection")
    func limiterForgetsClosedConnections() async throws {
        let limiter = ConnectionLimiter(limit: 10)
        weak var child: EmbeddedChannel?
        let server = EmbeddedChannel(handler: limiter)
        do {
            let accepted = EmbeddedChannel()
            child = accepted
            try server.writeInbound(accepted as any Channel)
            _ = try server.readInbound(as: (any Channel).self)
            #expect(limiter.openConnections == 1)
            try await accepted.close()
            accepted.embeddedEventLoop.run()
        }
        #expect(limiter.openConnections == 0)
        #expect(limiter.closedConnections == 1)
        #expect(child == nil)
        _ = try server.finish()
    }
}

/// Closing a TLS connection: close_notify and a half-close, then the socket beneath TLS.
@Suite("TLS close")
struct TLSCloserTests {
    @Test("after the handshake a close half-closes through TLS, then closes beneath it")
    func closeAfterHandshake() async throws {
        let (channel, tls) = try await Self.connectedCloser()
        channel.pipeline.fireUserInboundEventTriggered(TLSUserEvent.handshakeCompleted(negotiatedProtocol: nil))
        channel.close(promise: nil)
        channel.embeddedEventLoop.run()
        #expect(tls.modes == [.output])
        #expect(!channel.isActive)
    }

    @Test("before the handshake a close goes beneath TLS at once")
    func closeBeforeHandshake() async throws {
        let (channel, tls) = try await Self.connectedCloser()
        channel.close(promise: nil)
        channel.embeddedEventLoop.run()
        #expect(tls.modes.isEmpty)
        #expect(!channel.isActive)
    }

    @Test("a half-close that never completes ends at the linger timeout")
    func lingerTimeout() async throws {
        let (channel, _) = try await Self.connectedCloser(lingerTimeout: .seconds(5), completesOutputClose: false)
        channel.pipeline.fireUserInboundEventTriggered(TLSUserEvent.handshakeCompleted(negotiatedProtocol: nil))
        channel.close(promise: nil)
        channel.embeddedEventLoop.advanceTime(by: .seconds(4))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(!channel.isActive)
    }
}

extension TLSCloserTests {
    /// A connected channel with a ``CloseRecorder`` where the TLS handler would be, and a closer after it.
    static func connectedCloser(
        lingerTimeout: TimeAmount = .seconds(60), completesOutputClose: Bool = true
    ) async throws -> (EmbeddedChannel, CloseRecorder) {
        let channel = EmbeddedChannel()
        let tls = CloseRecorder(completesOutputClose: completesOutputClose)
        try channel.pipeline.syncOperations.addHandler(tls, name: TLSCloser.tlsHandlerName)
        try channel.pipeline.syncOperations.addHandler(TLSCloser(lingerTimeout: lingerTimeout))
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1))
        return (channel, tls)
    }
}

/// Stands where the TLS handler would: records the closes that reach it and answers a half-close.
final class CloseRecorder: ChannelOutboundHandler {
    typealias OutboundIn = NIOAny
    private let completesOutputClose: Bool
    private(set) var modes: [CloseMode] = []

    init(completesOutputClose: Bool = true) { self.completesOutputClose = completesOutputClose }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        modes.append(mode)
        if mode == .output {
            if completesOutputClose { promise?.succeed() }
        } else {
            context.close(mode: mode, promise: promise)
        }
    }
}

private final class RecordingSink: UpstreamResponseSink {
    var failed = false
    var closed = false
    func upstreamReceived(_ part: HTTPClientResponsePart) {}
    func upstreamReadComplete() {}
    func upstreamFailed() { failed = true }
    func upstreamWritabilityChanged(isWritable: Bool) {}
}

/// A runtime for handler tests, and the client pipeline the TLS listener builds above the TLS handler.
enum HandlerFixture {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("GatewayIntegrationTests/Fixtures")

    /// A runtime with the fixture certificate, one upstream (`users`, nothing listening) and `routes`.
    static func runtime(
        routes: String = """
        [[route]]
        path = "/api"
        upstream = "users"
        """
    ) throws -> GatewayRuntime {
        let text = """
            [tls]
            certificate = "\(fixtures.appendingPathComponent("server-ec.crt").path)"
            private_key = "\(fixtures.appendingPathComponent("server-ec.key").path)"

            [jwt]
            algorithms = ["HS256"]

            [[upstream]]
            name = "users"
            url = "http://127.0.0.1:9"

            \(routes)
            """
        let config = try ConfigLoader.parse(text: text, sourcePath: "/srv/gw.conf")
        return try GatewayRuntime(config: config, environment: ["JWT_SECRET_KEY": "handler-test-secret-0123456789abcdef"])
    }

    static func clientPipeline(on channel: EmbeddedChannel, runtime: GatewayRuntime) throws -> (
        proxy: ProxyHandler, timeouts: ConnectionTimeoutHandler, closer: TLSCloser
    ) {
        let logger = Logger(label: "handler-test")
        let loop = channel.embeddedEventLoop
        let health = UpstreamHealth(upstreams: runtime.config.upstreams, group: loop, logger: logger)
        let generations = ServingGenerations(runtime, health: health, group: loop)
        let proxy = ProxyHandler(
            generations: generations, generation: generations.current, eventLoop: loop,
            recorder: AuditRecorder(store: try SQLiteStore.inMemory(), logger: logger), metrics: RequestMetrics(GatewayMetrics()),
            heldBodyBudget: HeldBodyBudget(limit: runtime.config.server.heldBodyBudget), logger: logger)
        let timeouts = ConnectionTimeoutHandler(headerTimeout: .seconds(10), idleTimeout: .seconds(60))
        let closer = TLSCloser(lingerTimeout: .seconds(60))
        let sync = channel.pipeline.syncOperations
        try sync.addHandler(closer)
        try sync.addHandler(timeouts)
        try sync.configureHTTPServerPipeline(withPipeliningAssistance: true, withErrorHandling: false)
        try sync.addHandler(proxy)
        return (proxy, timeouts, closer)
    }

    /// Everything the channel has written, as text.
    static func readAll(_ channel: EmbeddedChannel) throws -> String {
        var text = ""
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { text += String(buffer: buffer) }
        return text
    }
}
