import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOPosix
import NIOSSL
import NIOTLS

#if canImport(Glibc)
    import Glibc
#endif

// The least a SwiftNIO reverse proxy does per request, as a floor for `Benchmarks/compare`:
// NIOSSL, NIO's HTTP/1.1 codec or NIOHTTP2 with its HTTP/1 codec (as the gateway has them), and
// each request forwarded as it came over a keep-alive connection from a per-loop pool through
// NIO's HTTP/1.1 client codec, the answer relayed back with CORS headers. Only requests whose
// `Authorization` is exactly `Bearer $FLOOR_TOKEN` go upstream, others get 401. No JWT, no limit,
// no header rules, no timeouts, no metrics, no log: what any SwiftNIO proxy pays before its policies.
// Usage: FLOOR_TOKEN=... nio-floor PORT CERTIFICATE KEY UPSTREAM_PORT

let arguments = CommandLine.arguments
guard arguments.count == 5, let port = Int(arguments[1]), let upstreamPort = Int(arguments[4]),
    let token = getenv("FLOOR_TOKEN").map({ String(cString: $0) })
else {
    fatalError("usage: FLOOR_TOKEN=... nio-floor PORT CERTIFICATE KEY UPSTREAM_PORT")
}
let authorization = "Bearer \(token)"
var tls = TLSConfiguration.makeServerConfiguration(
    certificateChain: try NIOSSLCertificate.fromPEMFile(arguments[2]).map { .certificate($0) },
    privateKey: .privateKey(try NIOSSLPrivateKey(file: arguments[3], format: .pem)))
tls.applicationProtocols = ["h2", "http/1.1"]
let sslContext = try NIOSSLContext(configuration: tls)
let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)

/// Idle upstream connections of one event loop; only that loop touches it.
final class UpstreamPool: @unchecked Sendable {
    let loop: any EventLoop
    let port: Int
    var idle: [UpstreamRelay] = []

    init(loop: any EventLoop, port: Int) {
        self.loop = loop
        self.port = port
    }

    func lease(_ use: @escaping (UpstreamRelay) -> Void) {
        while let relay = idle.popLast() {
            if relay.context?.channel.isActive == true { return use(relay) }
        }
        ClientBootstrap(group: loop)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(UpstreamRelay(pool: self))
                }
            }
            .connect(host: "127.0.0.1", port: port)
            .assumeIsolated()
            .whenSuccess { channel in use(try! channel.pipeline.syncOperations.handler(type: UpstreamRelay.self)) }
    }
}
let pools = Dictionary(
    uniqueKeysWithValues: group.makeIterator().map { (ObjectIdentifier($0), UpstreamPool(loop: $0, port: upstreamPort)) })

/// Relays one upstream connection's answers to the client handler that leased it.
final class UpstreamRelay: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart
    let pool: UpstreamPool
    var context: ChannelHandlerContext?
    var client: ClientHandler?

    init(pool: UpstreamPool) { self.pool = pool }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    /// Drops the context, which holds this handler, once the connection is gone.
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func send(_ head: HTTPRequestHead) {
        context?.write(wrapOutboundOut(.head(head)), promise: nil)
        context?.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        client?.relay(part)
        if case .end = part {
            client = nil
            pool.idle.append(self)
        }
    }
}

/// One client connection or stream: each request checked, then forwarded.
final class ClientHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    var context: ChannelHandlerContext?
    var head: HTTPRequestHead?

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): self.head = head
        case .body: break
        case .end:
            guard let head else { return }
            guard head.headers.first(name: "authorization") == authorization else {
                let headers = HTTPHeaders([("Content-Length", "0")])
                context.write(
                    wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .unauthorized, headers: headers))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
                return
            }
            var upstreamHead = head
            upstreamHead.version = .http1_1
            upstreamHead.headers.remove(name: "connection")
            pools[ObjectIdentifier(context.eventLoop)]!.lease { relay in
                relay.client = self
                relay.send(upstreamHead)
            }
        }
    }

    func relay(_ part: HTTPClientResponsePart) {
        guard let request = head, let context else { return }
        switch part {
        case .head(let response):
            var headers = response.headers
            headers.remove(name: "connection")
            if let origin = request.headers.first(name: "origin") {
                headers.add(name: "Access-Control-Allow-Origin", value: origin)
                headers.add(name: "Vary", value: "Origin")
            }
            context.write(
                wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: response.status, headers: headers))), promise: nil)
        case .body(let body):
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        case .end:
            let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
            if request.version.major == 1, !request.isKeepAlive {
                written.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
            }
        }
    }
}

let server = try ServerBootstrap(group: group)
    .serverChannelOption(.backlog, value: 1024)
    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
    .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
    .childChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: sslContext))
            try channel.pipeline.syncOperations.addHandler(
                ApplicationProtocolNegotiationHandler { result, channel in
                    channel.eventLoop.makeCompletedFuture {
                        let sync = channel.pipeline.syncOperations
                        if case .negotiated("h2") = result {
                            try sync.addHandler(
                                NIOHTTP2Handler(mode: .server, eventLoop: channel.eventLoop) { stream in
                                    stream.eventLoop.makeCompletedFuture {
                                        try stream.pipeline.syncOperations.addHandler(HTTP2FramePayloadToHTTP1ServerCodec())
                                        try stream.pipeline.syncOperations.addHandler(ClientHandler())
                                    }
                                })
                        } else {
                            try sync.configureHTTPServerPipeline(withPipeliningAssistance: true, withErrorHandling: false)
                            try sync.addHandler(ClientHandler())
                        }
                    }
                })
        }
    }
    .bind(host: "127.0.0.1", port: port).wait()
try server.closeFuture.wait()
