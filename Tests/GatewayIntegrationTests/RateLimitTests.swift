import Foundation
import GatewayCore
import NIOHTTP1
import Testing

/// Rate limits through the real gateway over TLS: exact boundaries, keys, forwarding headers,
/// shadow mode and the audit trail.
@Suite("Rate limits through the gateway")
struct RateLimitTests {
    static func token(subject: String) -> String {
        let now = Int(Date().timeIntervalSince1970)
        return IntegrationTokens.hs256(["sub": subject, "iss": "userservice", "aud": "gateway", "iat": now, "exp": now + 600])
    }

    func withGateway(
        defaults: [RatePolicyConfig] = [RatePolicyConfig(limit: 50, period: .hour)], routes: [RouteConfig]? = nil,
        trustLoopback: Bool = false, _ body: (GatewayHarness) async throws -> Void
    ) async throws {
        // A stopped clock: what a test sees never depends on how long it takes, nor on a window
        // boundary passing mid-test.
        let instant = Date()
        try await TestUpstream.with { upstream in
            var config = GatewayHarness.config(
                upstreams: ["test": upstream.port], routes: routes ?? [RouteConfig(path: "/", upstream: "test", auth: .optional)])
            config.rateLimit = RateLimitConfig(defaultPolicies: defaults)
            if trustLoopback { config.server.trustedProxies = [CIDR("127.0.0.1/32")!] }
            try await GatewayHarness.with(config, now: { instant }, body)
        }
    }

    @Test("with 50/hour the 50th request passes and the 51st is 429 with Retry-After and RateLimit headers")
    func exactBoundary() async throws {
        try await withGateway { gateway in
            for index in 1...50 {
                let response = try await gateway.send("/echo")
                #expect(response.status == .ok, "request \(index)")
                #expect(response.headers["ratelimit"] == [#""50/hour";r=\#(50 - index);t=\#(72 * index)"#], "request \(index)")
            }
            let refused = try await gateway.send("/echo")
            #expect(refused.status == .tooManyRequests)
            #expect(refused.headers["content-type"] == ["application/problem+json"])
            #expect(refused.json["code"] as? String == "rate_limited")
            #expect(refused.headers["retry-after"] == ["72"])
            #expect(refused.headers["ratelimit-policy"] == [#""50/hour";q=50;w=3600"#])
            #expect(refused.headers["ratelimit"] == [#""50/hour";r=0;t=3600"#])
        }
    }

    @Test("a route's own policies replace the defaults, and an empty list turns limits off")
    func routeOverride() async throws {
        let routes = [
            RouteConfig(path: "/", upstream: "test", auth: .optional),
            RouteConfig(path: "/tight", upstream: "test", auth: .optional, rateLimit: [RatePolicyConfig(limit: 2, period: .hour)]),
            RouteConfig(path: "/free", upstream: "test", auth: .optional, rateLimit: []),
        ]
        try await withGateway(defaults: [RatePolicyConfig(limit: 5, period: .hour)], routes: routes) { gateway in
            #expect(try await gateway.send("/tight/echo").status == .ok)
            #expect(try await gateway.send("/tight/echo").status == .ok)
            #expect(try await gateway.send("/tight/echo").status == .tooManyRequests)
            for _ in 0..<5 { #expect(try await gateway.send("/echo").status == .ok) }
            #expect(try await gateway.send("/echo").status == .tooManyRequests, "the default counts apart from /tight")
            for _ in 0..<10 {
                let free = try await gateway.send("/free/echo")
                #expect(free.status == .ok)
                #expect(free.headers["ratelimit"].isEmpty)
            }
        }
    }

    @Test("subject_or_ip counts each subject apart, and anonymous requests by address")
    func subjectsAndAddresses() async throws {
        try await withGateway(defaults: [RatePolicyConfig(limit: 2, period: .hour)]) { gateway in
            for subject in ["alice", "bob"] {
                for _ in 0..<2 { #expect(try await gateway.send("/echo", token: Self.token(subject: subject)).status == .ok) }
                #expect(try await gateway.send("/echo", token: Self.token(subject: subject)).status == .tooManyRequests)
            }
            for _ in 0..<2 { #expect(try await gateway.send("/echo").status == .ok) }
            #expect(try await gateway.send("/echo").status == .tooManyRequests)
            let events = try await gateway.auditEvents().filter { $0.type == .rateLimited }
            #expect(Set(events.compactMap(\.subject)) == ["alice", "bob"])
            #expect(events.map(\.reason).contains("2/hour exhausted for sub:alice@userservice"))
        }
    }

    @Test("requests refused by authentication count against the address: token guessing runs into 429, a valid subject does not")
    func refusedTokensCount() async throws {
        let routes = [
            RouteConfig(
                path: "/", upstream: "test", auth: .required, scopes: ["read"],
                rateLimit: [RatePolicyConfig(limit: 4, period: .hour, key: .subject)])
        ]
        try await withGateway(routes: routes) { gateway in
            #expect(try await gateway.send("/echo").status == .unauthorized)
            #expect(try await gateway.send("/echo", token: Self.token(subject: "mallory") + "x").status == .unauthorized)
            #expect(try await gateway.send("/echo", token: Self.token(subject: "mallory")).status == .forbidden, "no read scope")
            #expect(try await gateway.send("/echo", token: "not.a.token").status == .unauthorized)
            let guessing = try await gateway.send("/echo", token: "another.bad.token")
            #expect(guessing.status == .tooManyRequests)
            #expect(guessing.json["code"] as? String == "rate_limited")
            #expect(guessing.headers["retry-after"] == ["900"])
            let events = try await gateway.auditEvents().filter { $0.type == .rateLimited }
            #expect(events.map(\.reason) == ["4/hour by subject exhausted for ip:127.0.0.1"])
            let now = Int(Date().timeIntervalSince1970)
            let valid = IntegrationTokens.hs256([
                "sub": "alice", "iss": "userservice", "aud": "gateway", "scope": "read", "iat": now, "exp": now + 600,
            ])
            #expect(try await gateway.send("/echo", token: valid).status == .ok, "alice has a counter of her own")
        }
    }

    @Test("a client varying a header that keys the policy still runs into 429 with refused tokens")
    func refusedTokensIgnoreHeaderKeys() async throws {
        let routes = [
            RouteConfig(
                path: "/", upstream: "test", auth: .required,
                rateLimit: [RatePolicyConfig(limit: 3, period: .hour, key: .header("x-api-key"))])
        ]
        try await withGateway(routes: routes) { gateway in
            for index in 0..<3 {
                #expect(
                    try await gateway.send("/echo", headers: ["X-API-Key": "guess-\(index)"], token: "bad.to.ken").status == .unauthorized)
            }
            let refused = try await gateway.send("/echo", headers: ["X-API-Key": "guess-3"], token: "bad.to.ken")
            #expect(refused.status == .tooManyRequests)
            let valid = try await gateway.send("/echo", headers: ["X-API-Key": "mine"], token: Self.token(subject: "alice"))
            #expect(valid.status == .ok, "a verified request counts by its header as configured")
        }
    }

    @Test("a forged X-Forwarded-For from an untrusted peer does not change the key")
    func forgedForwardedFor() async throws {
        try await withGateway(defaults: [RatePolicyConfig(limit: 3, period: .hour, key: .ip)]) { gateway in
            for index in 0..<3 {
                #expect(try await gateway.send("/echo", headers: ["X-Forwarded-For": "203.0.113.\(index)"]).status == .ok)
            }
            let evading = try await gateway.send("/echo", headers: ["X-Forwarded-For": "203.0.113.99"])
            #expect(evading.status == .tooManyRequests)
        }
    }

    @Test("behind a trusted proxy, X-Forwarded-For selects the client that is counted")
    func trustedProxy() async throws {
        try await withGateway(defaults: [RatePolicyConfig(limit: 2, period: .hour, key: .ip)], trustLoopback: true) { gateway in
            for client in ["203.0.113.1", "203.0.113.2"] {
                for _ in 0..<2 { #expect(try await gateway.send("/echo", headers: ["X-Forwarded-For": client]).status == .ok) }
                #expect(try await gateway.send("/echo", headers: ["X-Forwarded-For": client]).status == .tooManyRequests)
            }
            let events = try await gateway.auditEvents().filter { $0.type == .rateLimited }
            #expect(events.compactMap(\.client).sorted() == ["203.0.113.1", "203.0.113.2"])
        }
    }

    @Test("a shadow policy lets requests through, audits the first refusal, and does not advertise itself")
    func shadowMode() async throws {
        try await withGateway(defaults: [RatePolicyConfig(limit: 2, period: .hour, key: .ip, mode: .shadow)]) { gateway in
            for _ in 0..<6 {
                let response = try await gateway.send("/echo")
                #expect(response.status == .ok)
                #expect(response.headers["ratelimit"].isEmpty)
            }
            let events = try await gateway.auditEvents().filter { $0.type == .rateLimited }
            #expect(events.map(\.reason) == ["2/hour by ip (shadow) exhausted for ip:127.0.0.1"])
            #expect(events.first?.status == nil)
        }
    }

    @Test("a flood of refusals is audited once per counter and window, then sampled")
    func auditSampling() async throws {
        try await withGateway(defaults: [RatePolicyConfig(limit: 1, period: .hour, key: .ip)]) { gateway in
            for _ in 0..<60 { _ = try await gateway.send("/echo") }
            let events = try await gateway.auditEvents().filter { $0.type == .rateLimited }
            #expect(events.count == 1)
            #expect(events.first?.status == 429)
        }
    }

    @Test("many connections firing at once never over-admit")
    func concurrentConnections() async throws {
        try await withGateway(defaults: [RatePolicyConfig(limit: 100, period: .hour, key: .ip)]) { gateway in
            let statuses = try await withThrowingTaskGroup(of: [HTTPResponseStatus].self) { group in
                for _ in 0..<30 {
                    group.addTask {
                        var statuses: [HTTPResponseStatus] = []
                        for _ in 0..<10 { statuses.append(try await gateway.send("/echo").status) }
                        return statuses
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(statuses.filter { $0 == .ok }.count == 100)
            #expect(statuses.filter { $0 == .tooManyRequests }.count == 200)
        }
    }
}
