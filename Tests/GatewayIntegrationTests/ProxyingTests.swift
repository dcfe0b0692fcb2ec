import AsyncHTTPClient
import Foundation
import GatewayCore
import NIOCore
import NIOHTTP1
import Testing

/// The forwarding core against a real plain-HTTP upstream, through real TLS.
@Suite("Proxying")
struct ProxyingTests {
    static let routes = [
        RouteConfig(path: "/", upstream: "test", auth: .none),
        RouteConfig(path: "/only-get", methods: ["GET"], upstream: "test", auth: .none),
        RouteConfig(path: "/strip", upstream: "test", stripPrefix: true, auth: .none),
        RouteConfig(path: "/private", upstream: "test"),
    ]

    func withUpstream<T>(
        configure: (inout GatewayConfig) -> Void = { _ in }, _ body: (GatewayHarness, TestUpstream) async throws -> T
    ) async throws -> T {
        try await TestUpstream.with { upstream in
            var config = GatewayHarness.config(upstreams: ["test": upstream.port], routes: Self.routes)
            configure(&config)
            return try await GatewayHarness.with(config) { try await body($0, upstream) }
        }
    }

    @Test("forwards the request and streams the answer back")
    func forwards() async throws {
        try await withUpstream { gateway, _ in
            let response = try await gateway.send(.POST, "/echo/a?x=1", body: #"{"a":1}"#)
            #expect(response.status == .ok)
            #expect(response.json["method"] as? String == "POST")
            #expect(response.json["uri"] as? String == "/echo/a?x=1")
            #expect(response.json["received"] as? Int == 7)
        }
    }

    @Test("client-sent identity headers never reach the upstream")
    func identityHeadersStripped() async throws {
        try await withUpstream { gateway, _ in
            let response = try await gateway.send(
                "/echo", headers: ["X-Auth-Subject": "admin", "X-Auth-Scopes": "admin", "x-auth-subject": "root"])
            #expect(response.status == .ok)
            #expect(response.upstreamHeader("x-auth-subject").isEmpty)
            #expect(response.upstreamHeader("x-auth-scopes").isEmpty)
        }
    }

    @Test("header names with underscores are dropped, so X_Auth_Subject cannot pose as X-Auth-Subject")
    func underscoreHeaders() async throws {
        try await withUpstream { gateway, _ in
            let response = try await gateway.send("/echo", headers: ["X_Auth_Subject": "admin", "X-Ok": "1"])
            #expect(response.upstreamHeaders.allSatisfy { !$0.0.contains("_") })
            #expect(response.upstreamHeader("x-ok") == ["1"])
        }
    }

    @Test("Connection cannot strip the Host header")
    func connectionHost() async throws {
        try await withUpstream { gateway, _ in
            let response = try await gateway.send("/echo", headers: ["Connection": "host"])
            #expect(response.upstreamHeader("host") == ["localhost:\(gateway.port)"])
        }
    }

    @Test("forwarding headers come from the gateway, not the client")
    func forwardingHeaders() async throws {
        try await withUpstream { gateway, _ in
            let response = try await gateway.send(
                "/echo", headers: ["X-Forwarded-For": "6.6.6.6", "X-Forwarded-Proto": "http", "X-Request-ID": "forged"])
            #expect(response.upstreamHeader("x-forwarded-for") == ["127.0.0.1"])
            #expect(response.upstreamHeader("x-forwarded-proto") == ["https"])
            #expect(response.upstreamHeader("x-forwarded-host") == ["localhost:\(gateway.port)"])
            let requestID = try #require(response.upstreamHeader("x-request-id").first)
            #expect(requestID != "forged")
            #expect(requestID.count == 32)
            #expect(response.headers["x-request-id"] == [requestID])
        }
    }

    @Test("hop-by-hop headers are removed in both directions")
    func hopByHop() async throws {
        try await withUpstream { gateway, _ in
            let response = try await gateway.send("/echo", headers: ["Connection": "X-Drop-Me", "X-Drop-Me": "1", "TE": "trailers"])
            #expect(response.upstreamHeader("x-drop-me").isEmpty)
            #expect(response.upstreamHeader("te").isEmpty)
            #expect(response.upstreamHeader("connection").isEmpty)
        }
    }

    @Test("upstream Server and X-Powered-By are removed and security headers added")
    func responseHeaders() async throws {
        try await withUpstream { gateway, _ in
            let response = try await gateway.send("/echo")
            #expect(!response.headers.contains(name: "server"))
            #expect(!response.headers.contains(name: "x-powered-by"))
            #expect(response.headers["strict-transport-security"] == ["max-age=31536000"])
            #expect(response.headers["x-content-type-options"] == ["nosniff"])
            #expect(response.headers["referrer-policy"] == ["no-referrer"])
            #expect(response.headers["x-frame-options"] == ["DENY"])
        }
    }

    @Test("routing and upstream both see the normalised path")
    func normalisedPath() async throws {
        try await withUpstream { gateway, _ in
            let response = try await gateway.send("/echo/a/./b/../c/%7Ex")
            #expect(response.json["uri"] as? String == "/echo/a/c/~x")
        }
    }

    @Test("strip_prefix forwards the rest of the path")
    func stripPrefix() async throws {
        try await withUpstream { gateway, _ in
            let response = try await gateway.send("/strip/echo/z?q=1")
            #expect(response.json["uri"] as? String == "/echo/z?q=1")
        }
    }

    @Test("a method the route does not allow is 405 with Allow, as problem+json")
    func methodNotAllowed() async throws {
        try await withUpstream { gateway, _ in
            let response = try await gateway.send(.DELETE, "/only-get")
            #expect(response.status == .methodNotAllowed)
            #expect(response.headers["allow"] == ["GET"])
            #expect(response.headers["content-type"] == ["application/problem+json"])
            #expect(response.json["code"] as? String == "method_not_allowed")
            #expect(response.json["status"] as? Int == 405)
            #expect(response.json["request_id"] as? String == response.headers["x-request-id"].first)
            #expect(response.headers["strict-transport-security"] == ["max-age=31536000"])
        }
    }

    @Test("a path with no route is 404")
    func noRoute() async throws {
        try await TestUpstream.with { upstream in
            let routes = [RouteConfig(path: "/api", upstream: "test", auth: .none)]
            try await GatewayHarness.with(GatewayHarness.config(upstreams: ["test": upstream.port], routes: routes)) { gateway in
                let response = try await gateway.send("/apiary")
                #expect(response.status == .notFound)
                #expect(response.json["code"] as? String == "no_route")
            }
        }
    }

    @Test("a declared body over max_body_bytes is 413 before anything is forwarded")
    func bodyTooLargeUpFront() async throws {
        try await withUpstream(configure: { $0.server.maxBodyBytes = 1024 }) { gateway, _ in
            let response = try await gateway.send(.POST, "/sink", body: String(repeating: "a", count: 2048))
            #expect(response.status == .payloadTooLarge)
            #expect(response.json["code"] as? String == "body_too_large")
        }
    }

    @Test("a streamed (chunked) body over max_body_bytes is cut off with 413")
    func bodyTooLargeStreaming() async throws {
        try await withUpstream(configure: { $0.server.maxBodyBytes = 100_000 }) { gateway, _ in
            let chunk = "a"
            let head = "POST /sink HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"
            var body = ""
            for _ in 0..<300 { body += String(format: "%x\r\n", 1000) + String(repeating: chunk, count: 1000) + "\r\n" }
            body += "0\r\n\r\n"
            let answer = try await RawTLSClient.exchange(
                port: gateway.port, caPath: Fixtures.caCertificate, bytes: Array((head + body).utf8))
            #expect(answer.hasPrefix("HTTP/1.1 413"))
            #expect(!answer.contains(#""received""#))
        }
    }

    @Test("an unreachable upstream is 502")
    func upstreamDown() async throws {
        let refusing = try RefusingPort()
        let port = refusing.port
        let config = GatewayHarness.config(upstreams: ["test": port], routes: Self.routes)
        try await GatewayHarness.with(config) { gateway in
            let response = try await gateway.send("/echo")
            #expect(response.status == .badGateway)
            #expect(response.json["code"] as? String == "upstream_unavailable")
            #expect(!response.body.contains("127.0.0.1:\(port)"))
            #expect(!response.body.lowercased().contains("connection refused"))
        }
        withExtendedLifetime(refusing) {}
    }

    @Test("an upstream that closes without answering is 502")
    func upstreamCloses() async throws {
        try await withUpstream { gateway, _ in
            let response = try await gateway.send(.POST, "/close", body: "{}")
            #expect(response.status == .badGateway)
            #expect(response.json["code"] as? String == "upstream_failed")
        }
    }

    @Test("a slow upstream is 504 within response_timeout")
    func upstreamSlow() async throws {
        try await withUpstream(configure: { $0.upstreams[0].responseTimeout = .seconds(1) }) { gateway, _ in
            let start = ContinuousClock.now
            let response = try await gateway.send("/slow?ms=8000")
            let elapsed = ContinuousClock.now - start
            #expect(response.status == .gatewayTimeout)
            #expect(response.json["code"] as? String == "upstream_timeout")
            // Not before the timeout; the 504 itself shows the upstream's answer (after 8 s) was not waited for.
            #expect(elapsed >= .seconds(1))
        }
    }

    @Test("keep-alive connections are reused for many requests on both sides")
    func keepAlive() async throws {
        try await withUpstream { gateway, _ in
            for index in 0..<50 {
                let response = try await gateway.send("/echo/\(index)")
                #expect(response.status == .ok)
                #expect(response.json["uri"] as? String == "/echo/\(index)")
            }
            #expect(gateway.server.openConnections <= 2)
        }
    }

    @Test("the redirect listener answers 308 to https")
    func redirect() async throws {
        try await withUpstream(configure: { $0.server.redirectHTTPListen = HostPort(host: "127.0.0.1", port: 0) }) { gateway, _ in
            let port = try #require(gateway.addresses.redirect?.port)
            let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
            defer { _ = client.shutdown() }
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/users/me?x=1")
            request.headers.add(name: "Host", value: "api.example.com:80")
            let response = try await client.execute(request, timeout: .seconds(5))
            #expect(response.status == .permanentRedirect)
            #expect(response.headers["location"] == ["https://api.example.com:\(gateway.port)/users/me?x=1"])
        }
    }
}
