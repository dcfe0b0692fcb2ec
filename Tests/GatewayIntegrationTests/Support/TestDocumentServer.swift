import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// A local server of one document for tests: a JWKS over HTTPS (an identity provider, with
/// `Cache-Control: max-age=3600`), or a web page over plain HTTP (a browser's origin). The test
/// can swap the document, and count how often it was fetched.
final class TestDocumentServer: Sendable {
    /// What is served, where.
    struct Kind: Sendable {
        let path: String
        let contentType: String
        let tls: Bool

        static let jwks = Kind(path: "/jwks.json", contentType: "application/json", tls: true)
        static let page = Kind(path: "/", contentType: "text/html; charset=utf-8", tls: false)
    }

    let channel: any Channel
    let kind: Kind
    private let box: DocumentBox

    var port: Int { channel.localAddress!.port! }
    var url: String { (kind.tls ? "https://localhost:" : "http://127.0.0.1:") + "\(port)\(kind.path)" }
    /// The origin a page served here has.
    var origin: String { "http://127.0.0.1:\(port)" }
    /// How many times the document was served.
    var fetches: Int { box.fetches }

    private init(channel: any Channel, kind: Kind, box: DocumentBox) {
        self.channel = channel
        self.kind = kind
        self.box = box
    }

    static func start(document: String, kind: Kind) async throws -> TestDocumentServer {
        let box = DocumentBox(document: document)
        let context =
            try kind.tls
            ? NIOSSLContext(
                configuration: TLSConfiguration.makeServerConfiguration(
                    certificateChain: try NIOSSLCertificate.fromPEMFile(Fixtures.serverCertificate).map { .certificate($0) },
                    privateKey: .privateKey(try NIOSSLPrivateKey(file: Fixtures.serverKey, format: .pem)))) : nil
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let context { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context)) }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(DocumentHandler(box: box, kind: kind))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return TestDocumentServer(channel: channel, kind: kind, box: box)
    }

    /// Serves `document` from now on (key rotation).
    func serve(_ document: String) { box.set(document) }

    func stop() async { try? await channel.close() }

    /// Runs `body` with a started server and always stops it.
    static func with<T>(document: String, kind: Kind = .jwks, _ body: (TestDocumentServer) async throws -> T) async throws -> T {
        let server = try await start(document: document, kind: kind)
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
final class DocumentBox: Sendable {
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

private final class DocumentHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    let box: DocumentBox
    let kind: TestDocumentServer.Kind

    init(box: DocumentBox, kind: TestDocumentServer.Kind) {
        self.box = box
        self.kind = kind
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(let head) = unwrapInboundIn(data) else { return }
        let found = head.uri == kind.path
        let body = found ? box.fetch() : ""
        var headers: HTTPHeaders = ["Content-Type": kind.contentType, "Content-Length": String(body.utf8.count)]
        headers.add(name: "Cache-Control", value: "max-age=3600")
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: found ? .ok : .notFound, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}
