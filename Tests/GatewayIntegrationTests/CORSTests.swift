import Foundation
import GatewayCore
import NIOHTTP1
import Testing

/// CORS through the gateway: preflights answered before authentication, CORS headers on every
/// answer of an allowed origin (errors included), none for others.
@Suite("CORS through the gateway")
struct CORSTests {
    static let app = "https://app.example.com"
    static let cors = CORSConfig(
        allowedOrigins: [OriginPattern(app)!, OriginPattern("https://*.partner.test")!], allowedMethods: ["GET", "POST", "DELETE"],
        allowedHeaders: ["Authorization", "Content-Type"], exposeHeaders: ["X-Request-ID"], allowCredentials: true,
        maxAge: .seconds(600))

    static var token: String {
        let now = Int(Date().timeIntervalSince1970)
        return IntegrationTokens.hs256(["sub": "42", "iss": "userservice", "aud": "gateway", "iat": now, "exp": now + 600])
    }

    func withGateway(enforce: Bool = false, preflights: Int = 120, _ body: (GatewayHarness) async throws -> Void) async throws {
        try await TestUpstream.with { upstream in
            var cors = Self.cors
            cors.enforce = enforce
            var config = GatewayHarness.config(
                upstreams: ["test": upstream.port],
                routes: [
                    RouteConfig(path: "/api", upstream: "test", cors: cors),
                    RouteConfig(path: "/plain", upstream: "test", auth: .none),
                ])
            config.cors.preflightRateLimit = RatePolicyConfig(limit: preflights, period: .minute, key: .ip)
            try await GatewayHarness.with(config, body)
        }
    }

    func preflight(_ gateway: GatewayHarness, origin: String = app, method: String = "DELETE", headers: String? = "authorization")
        async throws -> TestResponse
    {
        var fields: HTTPHeaders = ["Origin": origin, "Access-Control-Request-Method": method]
        if let headers { fields.add(name: "Access-Control-Request-Headers", value: headers) }
        return try await gateway.send(.OPTIONS, "/api/echo", headers: fields)
    }

    @Test("a preflight from an allowed origin is answered 204 by the gateway, before any token is asked for")
    func preflightAllowed() async throws {
        try await withGateway { gateway in
            let answer = try await preflight(gateway)
            #expect(answer.status == .noContent)
            #expect(answer.headers["access-control-allow-origin"] == [Self.app])
            #expect(answer.headers["access-control-allow-methods"] == ["GET, POST, DELETE"])
            #expect(answer.headers["access-control-allow-headers"] == ["Authorization, Content-Type"])
            #expect(answer.headers["access-control-allow-credentials"] == ["true"])
            #expect(answer.headers["access-control-max-age"] == ["600"])
            #expect(answer.headers["vary"] == ["Origin, Access-Control-Request-Method, Access-Control-Request-Headers"])
            #expect(answer.body.isEmpty)
            let partner = try await preflight(gateway, origin: "https://shop.partner.test", method: "GET", headers: nil)
            #expect(partner.status == .noContent)
        }
    }

    @Test(
        "a preflight for an origin, method or header that is not allowed is 403 cors_rejected, audited",
        arguments: [
            ("https://evil.test", "GET", "authorization", "origin https://evil.test not allowed"),
            ("null", "GET", "authorization", "origin null not allowed"),
            (app, "PUT", "authorization", "method PUT not allowed for https://app.example.com"),
            (app, "GET", "authorization, x-secret", "header x-secret not allowed for https://app.example.com"),
        ])
    func preflightRefused(_ origin: String, _ method: String, _ headers: String, _ reason: String) async throws {
        try await withGateway { gateway in
            let answer = try await preflight(gateway, origin: origin, method: method, headers: headers)
            #expect(answer.status == .forbidden)
            #expect(answer.json["code"] as? String == "cors_rejected")
            #expect(answer.headers["access-control-allow-origin"].isEmpty)
            let event = try #require(try await gateway.auditEvents().first)
            #expect(event.type == .corsRejected)
            #expect(event.reason == reason)
        }
    }

    @Test("an allowed origin gets its CORS headers on proxied answers and on the gateway's own errors; upstream ones are replaced")
    func actualRequests() async throws {
        try await withGateway { gateway in
            let ok = try await gateway.send("/api/echo", headers: ["Origin": Self.app], token: Self.token)
            #expect(ok.status == .ok)
            #expect(ok.headers["access-control-allow-origin"] == [Self.app])
            #expect(ok.headers["access-control-allow-credentials"] == ["true"])
            #expect(ok.headers["access-control-expose-headers"] == ["X-Request-ID"])
            #expect(ok.headers["vary"].contains("Origin"))
            let unauthorized = try await gateway.send("/api/echo", headers: ["Origin": Self.app])
            #expect(unauthorized.status == .unauthorized)
            #expect(unauthorized.headers["access-control-allow-origin"] == [Self.app], "a browser page can read the 401")
            let noOrigin = try await gateway.send("/api/echo", token: Self.token)
            #expect(noOrigin.headers["vary"].contains("Origin"))
            #expect(noOrigin.headers["access-control-allow-origin"].isEmpty)
            let plain = try await gateway.send("/plain/echo", headers: ["Origin": Self.app])
            #expect(plain.headers["access-control-allow-origin"].isEmpty, "a route without CORS gets none")
        }
    }

    @Test("a disallowed origin gets no CORS headers and an audited cors_rejected; with enforce = true a 403")
    func disallowedOrigin() async throws {
        try await withGateway { gateway in
            let answer = try await gateway.send("/api/echo", headers: ["Origin": "https://evil.test"], token: Self.token)
            #expect(answer.status == .ok)
            #expect(answer.headers["access-control-allow-origin"].isEmpty)
            #expect(answer.headers["vary"].contains("Origin"))
            let event = try #require(try await gateway.auditEvents().first { $0.type == .corsRejected })
            #expect(event.reason == "origin https://evil.test not allowed")
            #expect(event.status == nil)
        }
        try await withGateway(enforce: true) { gateway in
            let answer = try await gateway.send("/api/echo", headers: ["Origin": "https://evil.test"], token: Self.token)
            #expect(answer.status == .forbidden)
            #expect(answer.json["code"] as? String == "cors_rejected")
            #expect(try await gateway.send("/api/echo", headers: ["Origin": Self.app], token: Self.token).status == .ok)
        }
    }

    @Test("preflights are counted per address by their own policy, never by the protected call's")
    func preflightLimit() async throws {
        try await withGateway(preflights: 3) { gateway in
            for _ in 0..<3 {
                let answer = try await preflight(gateway)
                #expect(answer.status == .noContent)
            }
            let limited = try await preflight(gateway)
            #expect(limited.status == .tooManyRequests)
            let call = try await gateway.send("/api/echo", headers: ["Origin": Self.app], token: Self.token)
            #expect(call.status == .ok)
        }
    }
}
