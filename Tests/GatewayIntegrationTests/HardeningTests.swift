import Foundation
import GatewayCore
import NIOCore
import NIOHTTP1
import NIOPosix
import Testing

/// What the gateway does with requests a well-behaved client would never send, over raw TLS.
@Suite("Edge hardening")
struct HardeningTests {
    func exchange(
        _ lines: [String], body: String = "", timeout: Duration = .seconds(3), configure: (inout GatewayConfig) -> Void = { _ in }
    ) async throws -> String {
        try await TestUpstream.with { upstream in
            var config = GatewayHarness.config(
                upstreams: ["test": upstream.port], routes: [RouteConfig(path: "/", upstream: "test", auth: .none)])
            configure(&config)
            return try await GatewayHarness.with(config) { gateway in
                try await RawTLSClient.exchange(
                    port: gateway.port, caPath: Fixtures.caCertificate, bytes: RawTLSClient.request(lines, body: body),
                    timeout: timeout)
            }
        }
    }

    @Test("Content-Length with Transfer-Encoding is 400 and closes the connection")
    func contentLengthAndChunked() async throws {
        let answer = try await exchange(
            ["POST /echo HTTP/1.1", "Host: localhost", "Content-Length: 4", "Transfer-Encoding: chunked"],
            body: "0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: localhost\r\n\r\n")
        #expect(answer.hasPrefix("HTTP/1.1 400"))
        #expect(!answer.contains("/smuggled"))
        #expect(answer.components(separatedBy: "HTTP/1.1 ").count == 2, "exactly one response")
    }

    @Test("differing duplicate Content-Length is 400")
    func duplicateContentLength() async throws {
        let answer = try await exchange(
            ["POST /echo HTTP/1.1", "Host: localhost", "Content-Length: 3", "Content-Length: 4"], body: "abcd")
        #expect(answer.hasPrefix("HTTP/1.1 400"))
    }

    @Test("an unknown transfer coding is 400")
    func unknownCoding() async throws {
        let answer = try await exchange(["POST /echo HTTP/1.1", "Host: localhost", "Transfer-Encoding: gzip"])
        #expect(answer.hasPrefix("HTTP/1.1 400"))
    }

    @Test("bare LF line endings are refused")
    func bareLF() async throws {
        let answer = try await TestUpstream.with { upstream in
            let config = GatewayHarness.config(
                upstreams: ["test": upstream.port], routes: [RouteConfig(path: "/", upstream: "test", auth: .none)])
            return try await GatewayHarness.with(config) { gateway in
                try await RawTLSClient.exchange(
                    port: gateway.port, caPath: Fixtures.caCertificate,
                    bytes: Array("GET /echo HTTP/1.1\nHost: localhost\n\n".utf8))
            }
        }
        #expect(answer.hasPrefix("HTTP/1.1 400") || answer.isEmpty)
        #expect(!answer.contains("\"uri\""))
    }

    @Test("obs-fold header continuation is refused")
    func obsFold() async throws {
        let answer = try await exchange(["GET /echo HTTP/1.1", "Host: localhost", "X-A: 1", " folded"])
        #expect(answer.hasPrefix("HTTP/1.1 400"))
    }

    @Test("a header section over max_header_bytes is 431")
    func headersTooLarge() async throws {
        let answer = try await exchange(
            ["GET /echo HTTP/1.1", "Host: localhost", "X-Big: " + String(repeating: "a", count: 20_000)])
        #expect(answer.hasPrefix("HTTP/1.1 431"))
        #expect(answer.contains("application/problem+json"))
        #expect(answer.contains(#""code":"headers_too_large""#))
    }

    @Test("many small headers adding up over the limit are 431 too")
    func manyHeaders() async throws {
        let answer = try await exchange(["GET /echo HTTP/1.1", "Host: localhost"] + (0..<1000).map { "X-H\($0): 0123456789" })
        #expect(answer.hasPrefix("HTTP/1.1 431"))
    }

    @Test("a request target over 8 KiB is 414")
    func uriTooLong() async throws {
        let answer = try await exchange(["GET /" + String(repeating: "a", count: 9000) + " HTTP/1.1", "Host: localhost"])
        #expect(answer.hasPrefix("HTTP/1.1 414"))
    }

    @Test("a huge request target never gets buffered: the connection is refused with 431")
    func hugeTarget() async throws {
        let answer = try await exchange(["GET /" + String(repeating: "a", count: 200_000) + " HTTP/1.1", "Host: localhost"])
        #expect(answer.hasPrefix("HTTP/1.1 431") || answer.hasPrefix("HTTP/1.1 414"))
    }

    @Test(
        "dangerous paths are 400 and never forwarded",
        arguments: [
            "/echo/%2e%2e/%2e%2e/etc/passwd", "/echo/..%2Fsecret", "/echo%5c..%5cwin.ini", "/echo/a%00b", "/../echo", "/..;/echo",
            "/echo;jsessionid=1", "/echo%3Bx",
        ])
    func dangerousPaths(_ path: String) async throws {
        let answer = try await exchange(["GET \(path) HTTP/1.1", "Host: localhost"])
        #expect(answer.hasPrefix("HTTP/1.1 400"))
        #expect(answer.contains(#""code":"path_rejected""#))
        #expect(!answer.contains("\"uri\""))
    }

    @Test("percent-encoded control characters in the path are 400 path_rejected and never reach the upstream; %20 and %2B still pass")
    func encodedControlsInPath() async throws {
        let refused = [
            "/x/%0d%0aInjected:%20x", "/echo/%0D%0AX-Evil:%201", "/echo%0A", "/echo/a%09b", "/echo/%1f", "/echo/%1F/x", "/echo/%7F",
            "/echo/a%7fb", "/echo/%00",
        ]
        try await TestUpstream.with { upstream in
            let config = GatewayHarness.config(
                upstreams: ["test": upstream.port], routes: [RouteConfig(path: "/", upstream: "test", auth: .none)])
            try await GatewayHarness.with(config) { gateway in
                for path in refused {
                    let answer = try await RawTLSClient.exchange(
                        port: gateway.port, caPath: Fixtures.caCertificate,
                        bytes: RawTLSClient.request(["GET \(path) HTTP/1.1", "Host: localhost", "Connection: close"]))
                    #expect(answer.hasPrefix("HTTP/1.1 400"), "\(path): \(answer)")
                    #expect(answer.contains(#""code":"path_rejected""#), "\(path)")
                }
                #expect(upstream.requestsSeen == 0)
                let reasons = try await gateway.auditEvents().filter { $0.type == .badRequest }.map(\.reason)
                #expect(reasons.contains { $0?.contains("encoded control character in path") == true }, "\(reasons)")

                let passed = try await gateway.send("/echo/a%20b%2Bc")
                #expect(passed.status == .ok)
                #expect(passed.json["uri"] as? String == "/echo/a%20b+c")
                #expect(upstream.requestsSeen == 1)
            }
        }
    }

    @Test("absolute-form targets are refused")
    func absoluteForm() async throws {
        let answer = try await exchange(["GET http://internal.example/admin HTTP/1.1", "Host: localhost"])
        #expect(answer.hasPrefix("HTTP/1.1 400"))
    }

    @Test("a missing Host header is 400")
    func missingHost() async throws {
        let answer = try await exchange(["GET /echo HTTP/1.1"])
        #expect(answer.hasPrefix("HTTP/1.1 400"))
    }

    @Test("Upgrade: h2c is refused")
    func h2c() async throws {
        let answer = try await exchange(
            [
                "GET /echo HTTP/1.1", "Host: localhost", "Connection: Upgrade, HTTP2-Settings", "Upgrade: h2c",
                "HTTP2-Settings: AAMAAABkAAQAAP__",
            ])
        #expect(answer.hasPrefix("HTTP/1.1 400"))
        #expect(answer.contains(#""code":"upgrade_refused""#))
    }

    @Test("any Upgrade is refused: the decoder would stop parsing after one")
    func websocketUpgrade() async throws {
        let answer = try await exchange(
            ["GET /echo HTTP/1.1", "Host: localhost", "Connection: Upgrade", "Upgrade: websocket", "Sec-WebSocket-Version: 13"])
        #expect(answer.hasPrefix("HTTP/1.1 400"))
    }

    @Test("CONNECT and TRACE are never forwarded", arguments: ["TRACE /echo", "CONNECT localhost:443"])
    func nonStandardMethods(_ requestLine: String) async throws {
        let answer = try await exchange(["\(requestLine) HTTP/1.1", "Host: localhost", "Connection: close"])
        #expect(!answer.contains("\"method\""))
        #expect(answer.hasPrefix("HTTP/1.1 4"))
    }

    @Test("a malformed Host header is 400", arguments: ["", "a b", "evil.com/x", "[::1", "host:99999", "host:abc"])
    func badHost(_ host: String) async throws {
        let answer = try await exchange(["GET /echo HTTP/1.1", "Host: \(host)", "Connection: close"])
        #expect(answer.hasPrefix("HTTP/1.1 400"))
    }

    @Test("a request that stalls mid-body is closed after idle_timeout")
    func stalledBody() async throws {
        let start = ContinuousClock.now
        let answer = try await exchange(
            ["POST /sink HTTP/1.1", "Host: localhost", "Content-Length: 100"], body: "only ten b", timeout: .seconds(120),
            configure: { $0.server.idleTimeout = .milliseconds(500) })
        #expect(!answer.contains("received"))
        // Far from both: a busy machine may take seconds to start the gateway.
        #expect(ContinuousClock.now - start < .seconds(60), "closed by the gateway, not by the client's 120 s timeout")
    }

    @Test("Expect: 100-continue is answered by the gateway, then the body is forwarded")
    func expectContinue() async throws {
        let answer = try await exchange(
            ["POST /sink HTTP/1.1", "Host: localhost", "Content-Length: 5", "Expect: 100-continue", "Connection: close"], body: "hello")
        #expect(answer.hasPrefix("HTTP/1.1 100 Continue"))
        #expect(answer.contains(#"{"received":5}"#))
    }

    @Test("a client that never finishes its request head is cut off by request_header_timeout")
    func slowloris() async throws {
        let start = ContinuousClock.now
        let partial = try await TestUpstream.with { upstream in
            var config = GatewayHarness.config(
                upstreams: ["test": upstream.port], routes: [RouteConfig(path: "/", upstream: "test", auth: .none)])
            config.server.requestHeaderTimeout = .milliseconds(500)
            return try await GatewayHarness.with(config) { gateway in
                try await RawTLSClient.exchange(
                    port: gateway.port, caPath: Fixtures.caCertificate,
                    bytes: Array("GET /echo HTTP/1.1\r\nHost: localhost\r\nX-Slow: 1\r\n".utf8), timeout: .seconds(120))
            }
        }
        #expect(!partial.contains("200 OK"))
        // Far from both: a busy machine may take seconds to start the gateway.
        #expect(ContinuousClock.now - start < .seconds(60), "closed by the gateway, not by the client's 120 s timeout")
    }

    @Test("pipelined requests are answered in order")
    func pipelining() async throws {
        let two =
            RawTLSClient.request(["GET /echo/1 HTTP/1.1", "Host: localhost"])
            + RawTLSClient.request(["GET /echo/2 HTTP/1.1", "Host: localhost", "Connection: close"])
        let answer = try await TestUpstream.with { upstream in
            let config = GatewayHarness.config(
                upstreams: ["test": upstream.port], routes: [RouteConfig(path: "/", upstream: "test", auth: .none)])
            return try await GatewayHarness.with(config) { gateway in
                try await RawTLSClient.exchange(port: gateway.port, caPath: Fixtures.caCertificate, bytes: two)
            }
        }
        let first = try #require(answer.range(of: #""uri":"\/echo\/1""#) ?? answer.range(of: #""uri":"/echo/1""#))
        let second = try #require(answer.range(of: #""uri":"\/echo\/2""#) ?? answer.range(of: #""uri":"/echo/2""#))
        #expect(first.lowerBound < second.lowerBound)
    }
}

@Suite("Connection limits")
struct ConnectionLimitTests {
    @Test("connections beyond max_connections are closed on accept, and slots free up again")
    func maxConnections() async throws {
        try await TestUpstream.with { upstream in
            var config = GatewayHarness.config(
                upstreams: ["test": upstream.port], routes: [RouteConfig(path: "/", upstream: "test", auth: .none)])
            config.server.maxConnections = 2
            try await GatewayHarness.with(config) { gateway in
                let holders = try await (0..<2).asyncMap { _ in
                    try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: gateway.port)
                        .get()
                }
                try await waitUntil { gateway.server.openConnections == 2 }
                let refused = try await RawTLSClient.exchange(
                    port: gateway.port, caPath: Fixtures.caCertificate,
                    bytes: RawTLSClient.request(["GET /echo HTTP/1.1", "Host: localhost", "Connection: close"]))
                #expect(refused.isEmpty)
                for holder in holders { try await holder.close() }
                try await waitUntil { gateway.server.openConnections == 0 }
                let accepted = try await RawTLSClient.exchange(
                    port: gateway.port, caPath: Fixtures.caCertificate,
                    bytes: RawTLSClient.request(["GET /echo HTTP/1.1", "Host: localhost", "Connection: close"]))
                #expect(accepted.hasPrefix("HTTP/1.1 200"))
            }
        }
    }

    @Test("a reload that lowers max_connections applies to the next accept")
    func reloadedLimit() async throws {
        try await TestUpstream.with { upstream in
            let config = GatewayHarness.config(
                upstreams: ["test": upstream.port], routes: [RouteConfig(path: "/", upstream: "test", auth: .none)])
            try await GatewayHarness.with(config) { gateway in
                let holder = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .connect(host: "127.0.0.1", port: gateway.port).get()
                try await waitUntil { gateway.server.openConnections == 1 }
                var lowered = config
                lowered.server.maxConnections = 1
                await gateway.server.replaceRuntime(try gateway.makeRuntime(lowered))
                let refused = try await RawTLSClient.exchange(
                    port: gateway.port, caPath: Fixtures.caCertificate,
                    bytes: RawTLSClient.request(["GET /echo HTTP/1.1", "Host: localhost", "Connection: close"]))
                #expect(refused.isEmpty, "the one slot is taken")
                try await holder.close()
            }
        }
    }
}

/// Polls `condition` every 20 ms for up to 5 s.
func waitUntil(_ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(5)
    while !condition() {
        guard ContinuousClock.now < deadline else {
            Issue.record("condition not met in time")
            return
        }
        try await Task.sleep(for: .milliseconds(20))
    }
}

extension Sequence {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
