import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A small plain-HTTP upstream for tests, on 127.0.0.1 and an ephemeral port.
///
/// - `/echo…` answers with the request it saw (method, target, headers, body size) as JSON;
/// - `/sink` counts the streamed body and answers `{"received":N}`;
/// - `/download?bytes=N` streams N bytes (64 KiB chunks, respecting backpressure);
/// - `/slow?ms=N` answers after N ms; `/close` closes without answering;
/// - `/truncate?promise=N&send=M` promises `Content-Length: N`, sends M bytes and closes;
///   `/stall?promise=N&send=M` sends the same and then nothing more, keeping the connection open.
/// Every answer carries `Server` and `X-Powered-By`, which the gateway must strip.
final class TestUpstream: Sendable {
    let channel: any Channel
    private let seen: RequestCount
    /// The port it listens on (still known once stopped).
    let port: Int
    /// Request heads received so far.
    var requestsSeen: Int { seen.value.load(ordering: .relaxed) }
    /// Requests received whole (head, body and end) so far.
    var requestsCompleted: Int { seen.completed.load(ordering: .relaxed) }
    /// Connections accepted so far.
    var connectionsAccepted: Int { seen.connections.load(ordering: .relaxed) }
    /// The most requests it was answering at once (from head to the end of the answer).
    var mostInFlight: Int { seen.mostInFlight.load(ordering: .relaxed) }
    /// When the first request head arrived.
    var firstHeadTime: ContinuousClock.Instant? { seen.firstHead.withLock { $0 } }

    private init(channel: any Channel, seen: RequestCount) {
        self.channel = channel
        self.port = channel.localAddress!.port!
        self.seen = seen
    }

    static func start() async throws -> TestUpstream {
        let seen = RequestCount()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(TestUpstreamHandler(seen: seen))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return TestUpstream(channel: channel, seen: seen)
    }

    func stop() async { try? await channel.close() }

    /// Runs `body` with a started upstream and always stops it.
    static func with<T>(_ body: (TestUpstream) async throws -> T) async throws -> T {
        let upstream = try await start()
        do {
            let result = try await body(upstream)
            await upstream.stop()
            return result
        } catch {
            await upstream.stop()
            throw error
        }
    }
}

private final class RequestCount: Sendable {
    let value = Atomic(0)
    let completed = Atomic(0)
    let connections = Atomic(0)
    let inFlight = Atomic(0)
    let mostInFlight = Atomic(0)
    let firstHead = Mutex<ContinuousClock.Instant?>(nil)

    func started() {
        let now = inFlight.add(1, ordering: .relaxed).newValue
        var most = mostInFlight.load(ordering: .relaxed)
        while now > most {
            let (exchanged, original) = mostInFlight.compareExchange(expected: most, desired: now, ordering: .relaxed)
            if exchanged { break }
            most = original
        }
    }

    func ended() { inFlight.subtract(1, ordering: .relaxed) }
}

private final class TestUpstreamHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let seen: RequestCount
    private var head: HTTPRequestHead?
    private var received = 0

    init(seen: RequestCount) { self.seen = seen }

    func channelActive(context: ChannelHandlerContext) {
        seen.connections.add(1, ordering: .relaxed)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            seen.value.add(1, ordering: .relaxed)
            seen.started()
            seen.firstHead.withLock { $0 = $0 ?? .now }
            self.head = head
            received = 0
        case .body(let body):
            received += body.readableBytes
        case .end:
            guard let head else { return }
            seen.completed.add(1, ordering: .relaxed)
            respond(to: head, context: context)
        }
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let components = URLComponents(string: head.uri)
        let query = Dictionary(uniqueKeysWithValues: (components?.queryItems ?? []).map { ($0.name, $0.value ?? "") })
        let path = components?.path ?? head.uri
        switch path {
        case "/close":
            seen.ended()
            context.close(promise: nil)
        case "/slow":
            let delay = Int64(query["ms"] ?? "1000") ?? 1000
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            context.eventLoop.scheduleTask(in: .milliseconds(delay)) {
                let (handler, context) = loopBound.value
                handler.send(json: #"{"slow":true}"#, context: context)
            }
        case "/download":
            let total = Int(query["bytes"] ?? "0") ?? 0
            var headers = Self.baseHeaders
            headers.add(name: "Content-Length", value: String(total))
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
            stream(remaining: total, context: context)
        case "/truncate", "/stall":
            var headers = Self.baseHeaders
            headers.add(name: "Content-Length", value: query["promise"] ?? "1000")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
            let part = ByteBuffer(repeating: UInt8(ascii: "x"), count: Int(query["send"] ?? "100") ?? 100)
            let sent = context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(part))))
            if path == "/truncate" { sent.whenComplete { [channel = context.channel] _ in channel.close(promise: nil) } }
        case "/sink":
            send(json: #"{"received":\#(received)}"#, context: context)
        case "/login":
            send(json: #"{"error":"invalid credentials"}"#, status: .unauthorized, context: context)
        default:
            let headers = head.headers.map { [$0.name, $0.value] }
            let object: [String: Any] = ["method": head.method.rawValue, "uri": head.uri, "headers": headers, "received": received]
            let data = try! JSONSerialization.data(withJSONObject: object)
            send(json: String(decoding: data, as: UTF8.self), context: context)
        }
    }

    private static var baseHeaders: HTTPHeaders { ["Server": "TestUpstream/1.0", "X-Powered-By": "Tests"] }

    private func send(json: String, status: HTTPResponseStatus = .ok, context: ChannelHandlerContext) {
        seen.ended()
        var headers = Self.baseHeaders
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: String(json.utf8.count))
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: json)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    private static let chunk = ByteBuffer(repeating: UInt8(ascii: "x"), count: 64 * 1024)

    /// Writes the next chunk only once the previous one reached the socket: bounded memory.
    private func stream(remaining: Int, context: ChannelHandlerContext) {
        guard remaining > 0 else {
            seen.ended()
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            return
        }
        let size = min(remaining, Self.chunk.readableBytes)
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(Self.chunk.getSlice(at: 0, length: size)!)))).whenSuccess {
            let (handler, context) = loopBound.value
            handler.stream(remaining: remaining - size, context: context)
        }
    }
}
