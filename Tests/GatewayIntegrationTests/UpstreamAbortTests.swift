import AsyncHTTPClient
import Foundation
import GatewayCore
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Testing

/// The real binary in front of an upstream that breaks off its answers: one that closes after 100
/// of 1,000 promised bytes, one that sends 100 and then stalls until `idle_timeout`. Over HTTP/1.1
/// and HTTP/2 each is an upstream failure (access log and `gateway_requests_total`
/// `aborted_upstream`, a warning, an `upstream_error` audit event), not a 200; a client that stops
/// reading or goes away mid-response is not.
@Suite("Responses the upstream breaks off", .timeLimit(.minutes(3)))
struct UpstreamAbortTests {
    /// What a client got of an answer the gateway cut off.
    struct Cut {
        let requestID: String?
        let status: Int
        let bytes: Int
        let version: HTTPVersion
        let failed: Bool
    }

    /// GETs `path` and reads its body until the end or the connection's (or stream's) end.
    static func get(_ path: String, port: Int, client: HTTPClient) async throws -> Cut {
        let request = HTTPClientRequest(url: "https://localhost:\(port)\(path)")
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: .seconds(60))
        } catch let error as HTTPClientError where error == .remoteConnectionClosed {
            // idle_timeout is short here: on a busy machine a pooled connection can close as it is reused.
            response = try await client.execute(request, timeout: .seconds(60))
        }
        var bytes = 0
        var failed = false
        do {
            for try await part in response.body { bytes += part.readableBytes }
        } catch {
            failed = true
        }
        return Cut(
            requestID: response.headers.first(name: "X-Request-ID"), status: Int(response.status.code), bytes: bytes,
            version: response.version, failed: failed)
    }

    /// Waits (up to a minute) for the access line of request `id`: the request is over.
    static func accessLine(for id: String, in gateway: GatewayProcess) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if gateway.log.split(separator: "\n").contains(where: { $0.contains(#""msg":"request""#) && $0.contains(id) }) { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("no access line for \(id)")
    }

    @Test(
        "an upstream that closes or stalls mid-body is recorded as aborted_upstream over HTTP/1.1 and HTTP/2; a client that stops reading or leaves is not"
    )
    func truncatedAndStalled() async throws {
        let upstream = try await TestUpstream.start()
        defer { Task { await upstream.stop() } }
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = try writeConfig(
            in: directory, upstreamPort: upstream.port, extraServer: #"idle_timeout = "3s""#,
            extra: "[admin]\nlisten = \"127.0.0.1:0\"\n\n[log]\nformat = \"json\"")
        let gateway = try await GatewayProcess.start(configPath: config)
        let admin = "http://127.0.0.1:\(try await gateway.adminPort())"
        var cuts: [Cut] = []
        var clientSide: [String] = []
        // idle_timeout is 3 s, for the gateway and its admin listener: the clients drop idle
        // connections after 200 ms rather than reuse one the gateway is closing.
        try await AuditShutdownTests.withClient(httpVersion: .automatic, poolIdleTimeout: .milliseconds(200)) { http2 in
            try await AuditShutdownTests.withClient(poolIdleTimeout: .milliseconds(200)) { http1 in
                for client in [http1, http2] {
                    for path in ["/truncate?promise=1000&send=100", "/stall?promise=1000&send=100"] {
                        let cut = try await Self.get(path, port: gateway.port, client: client)
                        #expect(cut.status == 200 && cut.failed && cut.bytes < 1000, "\(path) \(cut)")
                        cuts.append(cut)
                    }
                }
                #expect(cuts.map(\.version) == [.http1_1, .http1_1, .http2, .http2])
                #expect(try await Self.get("/echo", port: gateway.port, client: http1).status == 200)
            }
            // Not the upstream's doing: a client that stops reading a long download (cut by
            // idle_timeout once the gateway holds the upstream's reads), and one that leaves mid-body.
            for leaving in [false, true] {
                let id = try await PartialReader.read(
                    port: gateway.port, path: "/download?bytes=\(256 << 20)", stopAfter: 64 * 1024, thenClose: leaving
                ) { try await Self.accessLine(for: $0, in: gateway) }
                clientSide.append(try #require(id))
            }
            let page = try await ObservabilityTests.metrics(
                admin, until: #"gateway_requests_total{route="/",status="aborted_upstream"}"#, is: 4, client: http2)
            #expect(ObservabilityTests.sample(#"gateway_requests_total{route="/",status="200"}"#, in: page) == 3, "\(page)")
        }
        #expect(await gateway.terminate() == .success)

        let objects = gateway.log.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        func lines(_ message: String, for id: String?) -> [[String: Any]] {
            objects.filter { $0["msg"] as? String == message && $0["gateway.request_id"] as? String == id }
        }
        for cut in cuts {
            let access = lines("request", for: cut.requestID)
            #expect(access.count == 1 && access.first?["gateway.status"] as? String == "aborted_upstream", "\(access)")
            #expect(access.first?["gateway.upstream_status"] as? String == "200")
            let warning = try #require(lines("upstream response aborted", for: cut.requestID).first)
            #expect(warning["level"] as? String == "warning")
            #expect(warning["gateway.upstream"] as? String == "test")
            #expect(warning["gateway.target"] as? String == "127.0.0.1:\(upstream.port)")
            #expect(Int(warning["gateway.bytes_out"] as? String ?? "") == 100)
        }
        for id in clientSide {
            let access = lines("request", for: id)
            #expect(access.count == 1 && access.first?["gateway.status"] as? String == "200", "\(access)")
            #expect(lines("upstream response aborted", for: id).isEmpty)
        }

        let store = try SQLiteStore(path: directory.appendingPathComponent("gateway.sqlite").path)
        let events = try await store.auditEvents(AuditQuery(limit: 1000)).map(\.event).filter { $0.type == .upstreamError }
        #expect(events.count == 4, "\(events)")
        for (cut, stalled) in zip(cuts, [false, true, false, true]) {
            let event = try #require(events.first { $0.requestID == cut.requestID })
            #expect(event.reason?.contains(stalled ? "sent nothing for idle_timeout" : "connection ended") == true, "\(event)")
            #expect(event.path == (stalled ? "/stall" : "/truncate"))
        }
    }
}

/// A raw TLS client that reads part of an answer and then stops reading or closes, and waits for
/// `finished` (the gateway is done with the request); returns the answer's `X-Request-ID`.
enum PartialReader {
    static func read(
        port: Int, path: String, stopAfter: Int, thenClose: Bool, finished: (String) async throws -> Void
    ) async throws -> String? {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .file(Fixtures.caCertificate)
        let context = try NIOSSLContext(configuration: tls)
        let group = MultiThreadedEventLoopGroup.singleton
        let head = group.any().makePromise(of: String.self)
        let channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: "localhost"))
                    try channel.pipeline.syncOperations.addHandler(Reader(stopAfter: stopAfter, thenClose: thenClose, head: head))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        try await channel.writeAndFlush(ByteBuffer(string: "GET \(path) HTTP/1.1\r\nHost: localhost\r\n\r\n"))
        let text = try await head.futureResult.get()
        let line = text.split(separator: "\r\n").first { $0.lowercased().hasPrefix("x-request-id:") }
        let id = line.map { String($0.dropFirst("x-request-id:".count)).trimmingCharacters(in: .whitespaces) }
        if let id { try await finished(id) }
        try? await channel.close()
        return id
    }

    private final class Reader: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let stopAfter: Int
        let thenClose: Bool
        let head: EventLoopPromise<String>
        var received = ByteBuffer()
        var done = false

        init(stopAfter: Int, thenClose: Bool, head: EventLoopPromise<String>) {
            (self.stopAfter, self.thenClose, self.head) = (stopAfter, thenClose, head)
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard !done else { return }
            var part = unwrapInboundIn(data)
            received.writeBuffer(&part)
            guard received.readableBytes >= stopAfter else { return }
            done = true
            head.succeed(String(buffer: received.getSlice(at: received.readerIndex, length: 2048) ?? received))
            if thenClose {
                context.close(promise: nil)
            } else {
                try? context.channel.syncOptions?.setOption(ChannelOptions.autoRead, value: false)
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            if !done {
                done = true
                head.fail(ChannelError.eof)
            }
            context.fireChannelInactive()
        }
    }
}
