import GatewayCore
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import Testing

/// The first request on a fresh TLS 1.3 connection, from a client that leaves Nagle's algorithm on
/// (Python's `ssl` over a plain socket, many embedded clients): it must not wait for the server's
/// delayed ACK of the handshake, about 40 ms on Linux.
@Suite("First request on a new connection")
struct FirstRequestLatencyTests {
    @Test("a client with Nagle's algorithm on gets its first TLS 1.3 answer without waiting for a delayed ACK")
    func nagleClient() async throws {
        try await TestUpstream.with { upstream in
            var config = GatewayHarness.config(
                upstreams: ["test": upstream.port], routes: [RouteConfig(path: "/", upstream: "test", auth: .none)])
            config.tls.minVersion = .v1_3
            try await GatewayHarness.with(config) { gateway in
                _ = try await FirstRequestClient.firstAnswer(port: gateway.port, nagle: false)  // warms up the upstream pool
                // Interleaved with a client that sets TCP_NODELAY, so both see the same load. A delayed
                // ACK adds 40 ms or more to every Nagle connection, while load only adds to some: the
                // fastest of each kind, the least disturbed, are compared.
                var nagle: [Duration] = []
                var noDelay: [Duration] = []
                for _ in 0..<20 {
                    nagle.append(try await FirstRequestClient.firstAnswer(port: gateway.port, nagle: true))
                    noDelay.append(try await FirstRequestClient.firstAnswer(port: gateway.port, nagle: false))
                }
                let (nagleFastest, noDelayFastest) = (nagle.min()!, noDelay.min()!)
                #expect(nagleFastest < noDelayFastest + .milliseconds(20), "Nagle on: \(nagle)\nTCP_NODELAY: \(noDelay)")
            }
        }
    }
}

/// A TLS 1.3 client that sends one request once the handshake is done, as a blocking client would,
/// and times the first bytes of the answer; with `nagle`, `TCP_NODELAY` is off.
enum FirstRequestClient {
    static func firstAnswer(port: Int, nagle: Bool) async throws -> Duration {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .file(Fixtures.caCertificate)
        tls.minimumTLSVersion = .tlsv13
        let context = try NIOSSLContext(configuration: tls)
        let promise = MultiThreadedEventLoopGroup.singleton.next().makePromise(of: Duration.self)
        let channel = try await ClientBootstrap(group: promise.futureResult.eventLoop)
            .channelOption(.tcpOption(.tcp_nodelay), value: nagle ? 0 : 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: "localhost"))
                    try channel.pipeline.syncOperations.addHandler(FirstAnswerTimer(promise))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        defer { channel.close(promise: nil) }
        return try await promise.futureResult.get()
    }

    private final class FirstAnswerTimer: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        private let promise: EventLoopPromise<Duration>
        private var sent: ContinuousClock.Instant?
        private var done = false

        init(_ promise: EventLoopPromise<Duration>) { self.promise = promise }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if case .handshakeCompleted = event as? TLSUserEvent {
                sent = .now
                let request = "GET /echo HTTP/1.1\r\nHost: localhost\r\n\r\n"
                context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: request)), promise: nil)
            }
            context.fireUserInboundEventTriggered(event)
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard let sent, !done else { return }
            done = true
            promise.succeed(.now - sent)
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            finish(error)
            context.close(promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) { finish(ChannelError.eof) }

        private func finish(_ error: any Error) {
            guard !done else { return }
            done = true
            promise.fail(error)
        }
    }
}
