import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// A local HTTPS identity provider for tests: serves `/jwks.json` (with `Cache-Control: max-age=3600`)
/// from a document the test can swap, and counts how often it was fetched.
final class TestJWKSServer: Sendable {
    let channel: any Channel
    private let box: JWKSBox

    var port: Int { channel.localAddress!.port! }
    var url: String { "https://localhost:\(port)/jwks.json" }
    /// How many times `/jwks.json` was served.
    var fetches: Int { box.fetches }

    private init(channel: any Channel, box: JWKSBox) {
        self.channel = channel
        self.box = box
    }

    static func start(document: String) async throws -> TestJWKSServer {
        let box = JWKSBox(document: document)
        let tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(Fixtures.serverCertificate).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: Fixtures.serverKey, format: .pem)))
        let context = try NIOSSLContext(configuration: tls)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(JWKSHandler(box: box))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return TestJWKSServer(channel: channel, box: box)
    }

    /// Serves `document` from now on (key rotation).
    func serve(_ document: String) { box.set(document) }

    func stop() async { try? await channel.close() }

    /// Runs `body` with a started server and always stops it.
    static func with<T>(document: String, _ body: (TestJWKSServer) async throws -> T) async throws -> T {
        let server = try await start(document: document)
        do {
            let result = try await body(server)
            await server.stop()
            return result
        } catch {
            await server.stop()
            throw error
        }
    }
}

/// The document and the fetch count, shared with the handlers.
final class JWKSBox: Sendable {
    private let state: Mutex<(document: String, fetches: Int)>
    init(document: String) { state = Mutex((document, 0)) }
    func set(_ document: String) { state.withLock { $0.document = document } }
    func fetch() -> String {
        state.withLock { state in
            state.fetches += 1
            return state.document
        }
    }
    var fetches: Int { state.withLock { $0.fetches } }
}

private final class JWKSHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    let box: JWKSBox

    init(box: JWKSBox) { self.box = box }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(let head) = unwrapInboundIn(data) else { return }
        let found = head.uri == "/jwks.json"
        let body = found ? box.fetch() : "{}"
        var headers: HTTPHeaders = ["Content-Type": "application/json", "Content-Length": String(body.utf8.count)]
        headers.add(name: "Cache-Control", value: "max-age=3600")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: found ? .ok : .notFound, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}
