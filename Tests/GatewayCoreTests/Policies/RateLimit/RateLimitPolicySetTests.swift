import Foundation
import NIOHTTP1
import Testing

@testable import GatewayCore

@Suite("Rate limits of a route: keys, answers and headers")
struct RateLimitPolicySetTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    let keying = RateLimitKeying(ipv6Prefix: 64)
    let alice = VerifiedIdentity(subject: "alice", issuer: "userservice", scopes: [], expiresAt: .distantFuture, claims: ["tenant": "acme"])

    @Test("keys: client address (IPv6 by its /64), subject with issuer, and fingerprints of header and claim values")
    func keys() {
        #expect(keying.value(of: .ip, client: "192.0.2.7", identity: alice, headers: [:]) == "ip:192.0.2.7")
        #expect(keying.value(of: .ip, client: "2001:db8:1:2:aaaa::1", identity: nil, headers: [:]) == "ip:2001:db8:1:2::/64")
        #expect(keying.value(of: .subjectOrIP, client: "192.0.2.7", identity: alice, headers: [:]) == "sub:alice@userservice")
        #expect(keying.value(of: .subjectOrIP, client: "192.0.2.7", identity: nil, headers: [:]) == "ip:192.0.2.7")
        let apiKey = keying.value(of: .header("x-api-key"), client: "192.0.2.7", identity: nil, headers: ["X-Api-Key": "secret-key"])
        #expect(apiKey == "header:x-api-key#" + AuditEvent.fingerprint(ofToken: "secret-key"))
        #expect(!apiKey.contains("secret-key"))
        #expect(keying.value(of: .claim("tenant"), client: "192.0.2.7", identity: alice, headers: [:]).hasPrefix("claim:tenant#"))
    }

    @Test("a request without the header or claim a policy keys by counts against its address or subject, never a shared counter")
    func missingValues() {
        #expect(keying.value(of: .header("x-api-key"), client: "192.0.2.7", identity: nil, headers: [:]) == "ip:192.0.2.7")
        #expect(keying.value(of: .header("x-api-key"), client: "192.0.2.7", identity: nil, headers: ["X-Api-Key": ""]) == "ip:192.0.2.7")
        let bob = VerifiedIdentity(subject: "bob", issuer: "userservice", scopes: [], expiresAt: .distantFuture)
        #expect(keying.value(of: .claim("tenant"), client: "192.0.2.7", identity: bob, headers: [:]) == "sub:bob@userservice")
    }

    @Test("subjects and issuers containing @ or % cannot share a key")
    func subjectEscaping() {
        let one = VerifiedIdentity(subject: "a@b", scopes: [], expiresAt: .distantFuture)
        let other = VerifiedIdentity(subject: "a", issuer: "b", scopes: [], expiresAt: .distantFuture)
        #expect(RateLimitKeying.subject(one) == "sub:a%40b")
        #expect(RateLimitKeying.subject(other) == "sub:a@b")
    }

    @Test("the 51st request of 50/hour is a 429 with Retry-After, RateLimit-Policy and RateLimit; allowed ones carry RateLimit")
    func answers() throws {
        let set = RateLimitPolicySet([RateLimitPolicy(RatePolicyConfig(limit: 50, period: .hour), scope: "test")])
        let limiter = RateLimiter(maxKeys: 1_000)
        func admit() throws(GatewayProblem) -> RateLimitPolicySet.Admission {
            try set.admit(
                limiter: limiter, keying: keying, client: "192.0.2.7", identity: nil, headers: [:], now: now, responseHeaders: true)
        }
        let first = try admit()
        #expect(first.responseHeaders.map(\.0) == ["RateLimit-Policy", "RateLimit"])
        #expect(first.responseHeaders.map(\.1) == [#""50/hour";q=50;w=3600"#, #""50/hour";r=49;t=72"#])
        for _ in 2...50 { _ = try admit() }
        #expect {
            try admit()
        } throws: { error in
            guard let problem = error as? GatewayProblem else { return false }
            let headers = Dictionary(problem.headers, uniquingKeysWith: { first, _ in first })
            return problem.status == .tooManyRequests && problem.code == "rate_limited" && headers["Retry-After"] == "72"
                && headers["RateLimit"] == #""50/hour";r=0;t=3600"# && problem.auditType == .rateLimited
                && problem.auditReason == "50/hour exhausted for ip:192.0.2.7"
        }
    }

    @Test("on a 429, the RateLimit item of a policy that did not refuse matches its counter as given back")
    func refusalHeadersMatchCounters() throws {
        let policies = [
            RateLimitPolicy(RatePolicyConfig(limit: 200, period: .day), scope: "test"),
            RateLimitPolicy(RatePolicyConfig(limit: 50, period: .hour), scope: "test"),
        ]
        let set = RateLimitPolicySet(policies)
        let limiter = RateLimiter(maxKeys: 1_000)
        func admit() throws(GatewayProblem) -> RateLimitPolicySet.Admission {
            try set.admit(
                limiter: limiter, keying: keying, client: "192.0.2.7", identity: nil, headers: [:], now: now, responseHeaders: true)
        }
        for _ in 1...50 { _ = try admit() }
        var refusal: GatewayProblem?
        do {
            _ = try admit()
        } catch {
            refusal = error
        }
        let headers = Dictionary(try #require(refusal).headers, uniquingKeysWith: { first, _ in first })
        let counters = limiter.counters(
            key: try #require(keying.value(of: policies[0].key, client: "192.0.2.7", identity: nil, headers: [:])))
        let daily = policies[0].state(tat: try #require(counters[policies[0].id]), now: now.rateLimitNanoseconds)
        #expect(daily.remaining == 150)
        #expect(headers["RateLimit"] == #""200/day";r=150;t=21600, "50/hour";r=0;t=3600"#)
    }

    @Test("a shadow policy's refusal lets the request through and is reported; it is not advertised in headers")
    func shadow() throws {
        let shadow = RateLimitPolicy(RatePolicyConfig(limit: 1, period: .minute, key: .ip, mode: .shadow), scope: "test")
        let set = RateLimitPolicySet([shadow])
        #expect(set.policyField == nil)
        let limiter = RateLimiter(maxKeys: 1_000)
        _ = try set.admit(
            limiter: limiter, keying: keying, client: "192.0.2.7", identity: nil, headers: [:], now: now, responseHeaders: true)
        let second = try set.admit(
            limiter: limiter, keying: keying, client: "192.0.2.7", identity: nil, headers: [:], now: now, responseHeaders: true)
        #expect(second.shadowRefusals.map(\.reason) == ["1/minute by ip (shadow) exhausted for ip:192.0.2.7"])
        #expect(second.shadowRefusals.first?.audited == true)
        #expect(second.responseHeaders.isEmpty)
    }

    @Test("an operator's key means what the request path counts under; anything else is nil")
    func operatorKeys() {
        let header = keying.value(of: .header("x-api-key"), client: "192.0.2.7", identity: nil, headers: ["X-Api-Key": "secret-key"])
        #expect(RateLimitKeying.counterKey(operatorInput: "header:X-Api-Key=secret-key") == header)
        let claim = keying.value(of: .claim("tenant"), client: "192.0.2.7", identity: alice, headers: [:])
        #expect(RateLimitKeying.counterKey(operatorInput: "claim:tenant=acme") == claim)
        #expect(RateLimitKeying.counterKey(operatorInput: "ip:192.0.2.7") == "ip:192.0.2.7")
        #expect(RateLimitKeying.counterKey(operatorInput: "sub:alice@userservice") == "sub:alice@userservice")
        for nonsense in ["", "ip:", "sub:", "header:=x", "header:novalue", "user:alice", "192.0.2.7"] {
            #expect(RateLimitKeying.counterKey(operatorInput: nonsense) == nil, "\(nonsense)")
        }
    }

    @Test("every policy of a config once, and what a counter leaves of a quota")
    func policiesAndState() throws {
        let hourly = RatePolicyConfig(limit: 60, period: .hour, key: .ip)
        var config = GatewayConfig(
            sourcePath: "test", server: ServerConfig(), tls: TLSConfig(certificatePath: "c", privateKeyPath: "k"), jwt: JWTConfig(),
            upstreams: [], routes: [RouteConfig(path: "/a", upstream: "u", rateLimit: [hourly]), RouteConfig(path: "/b", upstream: "u")])
        config.rateLimit = RateLimitConfig(defaultPolicies: [hourly])
        let policies = RateLimitPolicy.all(in: config)
        #expect(
            policies.map(\.id) == [
                RateLimitPolicy(hourly, scope: "default").id,
                RateLimitPolicy(hourly, scope: RateLimitPolicy.scope(of: config.routes[0])).id,
            ])
        let policy = try #require(policies.first)
        let nanos: Int64 = 1_000_000_000
        let untouched = policy.state(tat: 0, now: 100 * nanos)
        #expect(untouched.remaining == 60 && untouched.fullIn == 0)
        // Ten requests counted a moment ago: 50 left, the whole quota back in 10 minutes.
        let state = policy.state(tat: 100 * nanos + 600 * nanos, now: 100 * nanos)
        #expect(state.remaining == 50 && state.fullIn == 600 * nanos)
    }
}
