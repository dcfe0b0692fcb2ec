import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import GatewayCore

/// The admin listener's request handler on an `EmbeddedChannel`, behind no codec.
@Suite("Admin handler")
struct AdminHandlerTests {
    static func endpoints() throws -> AdminEndpoints {
        let logger = Logger(label: "test")
        let store = try SQLiteStore.inMemory()
        let metrics = GatewayMetrics()
        return AdminEndpoints(
            filter: ClientFilter(allowed: AdminConfig.loopback), server: ServerConfig(),
            readiness: Readiness(store: store, health: UpstreamHealth(upstreams: [], logger: logger), remoteKeys: []),
            metrics: metrics,
            readings: {
                GatewayMetrics.Readings(
                    openConnections: 0, auditQueueDepth: 0, auditEventsDropped: 0, rateLimitKeys: 0, rateLimitEvictions: 0, targets: [])
            },
            limits: LimitsEndpoint(policies: [], limiter: RateLimiter(maxKeys: 10), store: store, logger: logger), status: nil)
    }

    static func connected(from address: String = "127.0.0.1") async throws -> EmbeddedChannel {
        let channel = EmbeddedChannel(handler: AdminHandler(endpoints: try endpoints()))
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9901))
        channel.remoteAddress = try SocketAddress(ipAddress: address, port: 40_300)
        return channel
    }

    static func send(_ channel: EmbeddedChannel, _ uri: String, method: HTTPMethod = .GET, headers: HTTPHeaders) throws {
        try channel.writeInbound(HTTPServerRequestPart.head(HTTPRequestHead(version: .http1_1, method: method, uri: uri, headers: headers)))
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
    }

    /// The status and body of the next answer written.
    static func answer(_ channel: EmbeddedChannel) throws -> (HTTPResponseHead, String)? {
        guard case .head(let head) = try channel.readOutbound(as: HTTPServerResponsePart.self) else { return nil }
        var body = ""
        while let part = try channel.readOutbound(as: HTTPServerResponsePart.self) {
            switch part {
            case .body(.byteBuffer(let buffer)): body += String(buffer: buffer)
            case .end: return (head, body)
            default: continue
            }
        }
        return (head, body)
    }

    @Test("answers /healthz and keeps the connection for the next request")
    func healthz() async throws {
        let channel = try await Self.connected()
        try Self.send(channel, "/healthz", headers: ["Host": "127.0.0.1:9901"])
        let answer = try #require(try Self.answer(channel))
        #expect(answer.0.status == .ok && answer.1 == "ok\n")
        #expect(channel.isActive)
        _ = try channel.finish()
    }

    @Test("two Host headers and an absolute-form target are 400, as on the TLS listener")
    func strictHead() async throws {
        let channel = try await Self.connected()
        try Self.send(channel, "/metrics", headers: HTTPHeaders([("Host", "127.0.0.1"), ("Host", "evil.test")]))
        let twoHosts = try #require(try Self.answer(channel))
        #expect(twoHosts.0.status == .badRequest && twoHosts.1.contains(#""code":"bad_host""#))
        try Self.send(channel, "http://evil.test/metrics", headers: ["Host": "127.0.0.1"])
        let absolute = try #require(try Self.answer(channel))
        #expect(absolute.0.status == .badRequest && absolute.1.contains(#""code":"path_rejected""#))
        _ = try channel.finish()
    }

    @Test("a client outside loopback and allowed_clients is 403")
    func foreignClient() async throws {
        let channel = try await Self.connected(from: "192.0.2.7")
        try Self.send(channel, "/healthz", headers: ["Host": "127.0.0.1"])
        #expect(try Self.answer(channel)?.0.status == .forbidden)
        _ = try channel.finish()
    }

    @Test("a body over 4 KiB is 413 and the connection closes")
    func bodyLimit() async throws {
        let channel = try await Self.connected()
        let head = HTTPRequestHead(
            version: .http1_1, method: .POST, uri: "/limits/reset?key=ip:127.0.0.1",
            headers: ["Host": "127.0.0.1", "Transfer-Encoding": "chunked"])
        try channel.writeInbound(HTTPServerRequestPart.head(head))
        try channel.writeInbound(HTTPServerRequestPart.body(ByteBuffer(repeating: 0x61, count: AdminConfig.maxBodyBytes + 1)))
        #expect(try Self.answer(channel)?.0.status == .payloadTooLarge)
        channel.embeddedEventLoop.run()
        #expect(!channel.isActive)
    }

    @Test("the handler is freed with its channel")
    func freed() async throws {
        weak var handler: AdminHandler?
        do {
            let strong = AdminHandler(endpoints: try Self.endpoints())
            handler = strong
            let channel = EmbeddedChannel(handler: strong)
            try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9901))
            try Self.send(channel, "/healthz", headers: ["Host": "127.0.0.1"])
            _ = try channel.finish()
        }
        #expect(handler == nil)
    }
}
