import Foundation
import GatewayCore
import NIOHTTP1
import Testing

/// Brute-force protection on the real userservice's `/auth/login`, behind the real gateway over TLS.
/// In process every client is 127.0.0.1, so other client addresses come from `X-Forwarded-For`
/// through a trusted proxy, the documented way the client address is resolved.
@Suite("Login protection")
struct LoginProtectionTests {
    static let password = "correct horse battery"

    static let routes = [
        RouteConfig(path: "/auth", methods: ["POST"], upstream: "users", auth: .none),
        RouteConfig(path: "/auth/login", methods: ["POST"], upstream: "users", auth: .none, login: true),
        RouteConfig(path: "/health", methods: ["GET"], upstream: "users", auth: .none),
    ]

    /// The userservice and a gateway that locks a client after 3 failures and a username after 5.
    func withStack(trustLoopbackProxy: Bool = false, _ body: (GatewayHarness) async throws -> Void) async throws {
        try await UserServiceHarness.with { port in
            var config = GatewayHarness.config(upstreams: ["users": port], routes: Self.routes)
            config.loginProtection = LoginProtectionConfig(
                maxFailuresPerClient: 3, maxFailuresPerUsername: 5, window: .seconds(600), cooldown: .seconds(900))
            if trustLoopbackProxy { config.server.trustedProxies = [try #require(CIDR("127.0.0.1/32"))] }
            try await GatewayHarness.with(config, body)
        }
    }

    func register(_ gateway: GatewayHarness, _ name: String) async throws {
        let created = try await gateway.send(
            .POST, "/auth/register", body: #"{"username":"\#(name)","email":"\#(name)@example.com","password":"\#(Self.password)"}"#)
        #expect(created.status == .created)
    }

    func login(
        _ gateway: GatewayHarness, _ name: String, password: String = "wrong password", from client: String? = nil
    ) async throws -> TestResponse {
        let headers: HTTPHeaders = client.map { ["X-Forwarded-For": $0] } ?? [:]
        return try await gateway.send(
            .POST, "/auth/login", headers: headers, body: #"{"username":"\#(name)","password":"\#(password)"}"#)
    }

    func events(_ gateway: GatewayHarness, _ type: AuditEventType) async throws -> [AuditEvent] {
        try await gateway.auditEvents().filter { $0.type == type }
    }

    @Test("locks a client after 3 failed logins, refusing even the right password, and audits both")
    func locksClient() async throws {
        try await withStack { gateway in
            try await register(gateway, "alice")
            for _ in 0..<3 {
                #expect(try await login(gateway, "alice").status == .unauthorized)
            }
            let locked = try await login(gateway, "alice", password: Self.password)
            #expect(locked.status == .tooManyRequests)
            #expect(locked.headers["content-type"] == ["application/problem+json"])
            #expect(locked.json["code"] as? String == "login_locked")
            let retryAfter = try #require(locked.headers["retry-after"].first.flatMap { Int($0) })
            #expect((890...900).contains(retryAfter))
            #expect(try await login(gateway, "alice", password: Self.password).status == .tooManyRequests)

            let failed = try await events(gateway, .loginFailed)
            #expect(failed.count == 3)
            let fingerprint = try await gateway.usernameFingerprint("alice")
            for event in failed {
                #expect(event.reason == "bad credentials; user fp \(fingerprint)")
                #expect(event.status == 401)
                #expect(event.client == "127.0.0.1")
                #expect(event.route == "/auth/login")
                #expect(event.subject == nil)
            }
            let lockedEvents = try await events(gateway, .loginLocked)
            #expect(lockedEvents.count == 1, "one login_locked per key per cooldown")
            #expect(lockedEvents.first?.reason == "client locked")
            #expect(lockedEvents.first?.status == 429)
            #expect(lockedEvents.first?.requestID == locked.headers["x-request-id"].first)
            let metrics = String(decoding: gateway.server.metrics.exposition(gateway.server.metricsReadings), as: UTF8.self)
            #expect(metrics.contains("gateway_login_failures_total 3\n"), "\(metrics)")
            #expect(metrics.contains("gateway_login_failing_clients 1.0\n"))
            #expect(metrics.contains(#"gateway_auth_failures_total{reason="login_locked"} 2"#))
            let everything = try await gateway.auditEvents()
            #expect(!everything.contains { [$0.reason, $0.path, $0.subject].contains { $0?.contains("alice") == true } })
            #expect(!everything.contains { [$0.reason, $0.path, $0.subject].contains { $0?.contains("wrong password") == true } })
        }
    }

    @Test("a reload keeps every lock and takes up new thresholds")
    func reloadKeepsLocks() async throws {
        try await withStack(trustLoopbackProxy: true) { gateway in
            try await register(gateway, "alice")
            for _ in 0..<3 { #expect(try await login(gateway, "alice", from: "192.0.2.1").status == .unauthorized) }
            #expect(try await login(gateway, "alice", from: "192.0.2.2").status == .unauthorized)
            var config = gateway.server.runtime.config
            config.loginProtection.maxFailuresPerClient = 2
            await gateway.server.replaceRuntime(try gateway.makeRuntime(config))
            #expect(
                try await login(gateway, "alice", password: Self.password, from: "192.0.2.1").status == .tooManyRequests, "still locked")
            #expect(try await login(gateway, "alice", from: "192.0.2.2").status == .unauthorized, "its second failure: now the limit")
            #expect(try await login(gateway, "alice", password: Self.password, from: "192.0.2.2").status == .tooManyRequests)
        }
    }

    @Test("a correct password from another address is still accepted while only the address is locked")
    func otherAddress() async throws {
        try await withStack(trustLoopbackProxy: true) { gateway in
            try await register(gateway, "alice")
            for _ in 0..<3 {
                #expect(try await login(gateway, "alice", from: "203.0.113.5").status == .unauthorized)
            }
            #expect(try await login(gateway, "alice", password: Self.password, from: "203.0.113.5").status == .tooManyRequests)
            let accepted = try await login(gateway, "alice", password: Self.password, from: "198.51.100.9")
            #expect(accepted.status == .ok)
            #expect(accepted.json["access_token"] is String)
            #expect(try await events(gateway, .loginFailed).map(\.client) == Array(repeating: "203.0.113.5", count: 3))
            #expect(try await events(gateway, .loginLocked).map(\.client) == ["203.0.113.5"])
        }
    }

    @Test("a forged X-Forwarded-For from an untrusted peer does not change the address counted")
    func forgedForwardedFor() async throws {
        try await withStack { gateway in
            try await register(gateway, "alice")
            for client in ["10.0.0.1", "10.0.0.2", "10.0.0.3"] {
                #expect(try await login(gateway, "alice", from: client).status == .unauthorized)
            }
            #expect(try await login(gateway, "alice", password: Self.password, from: "10.0.0.4").status == .tooManyRequests)
            #expect(try await events(gateway, .loginLocked).map(\.client) == ["127.0.0.1"])
        }
    }

    @Test("locks a username after 5 failures from any addresses, without forwarding further attempts")
    func locksUsername() async throws {
        try await withStack(trustLoopbackProxy: true) { gateway in
            try await register(gateway, "bob")
            for index in 1...5 {
                #expect(try await login(gateway, "bob", from: "203.0.113.\(index)").status == .unauthorized)
            }
            let locked = try await login(gateway, "bob", password: Self.password, from: "198.51.100.9")
            #expect(locked.status == .tooManyRequests)
            #expect(locked.json["code"] as? String == "login_locked")
            let event = try #require(try await events(gateway, .loginLocked).first)
            let fingerprint = try await gateway.usernameFingerprint("bob")
            #expect(event.reason == "username locked; user fp \(fingerprint)")
            #expect(try await events(gateway, .loginFailed).count == 5, "the refused attempt never reached the userservice")
            try await register(gateway, "carol")
            #expect(try await login(gateway, "carol", password: Self.password, from: "198.51.100.9").status == .ok)
        }
    }

    @Test("refuses a login body over 8 KiB with 413, and a username given twice with 400")
    func oversizedAndAmbiguousBodies() async throws {
        try await withStack { gateway in
            let padding = String(repeating: "x", count: 8 * 1024)
            let large = try await gateway.send(.POST, "/auth/login", body: #"{"username":"alice","password":"\#(padding)"}"#)
            #expect(large.status == .payloadTooLarge)
            #expect(large.json["code"] as? String == "body_too_large")
            let ambiguous = try await gateway.send(
                .POST, "/auth/login", body: #"{"username":"alice","username":"decoy","password":"x"}"#)
            #expect(ambiguous.status == .badRequest)
            #expect(ambiguous.json["code"] as? String == "ambiguous_login")
            #expect(try await events(gateway, .loginFailed).isEmpty)
        }
    }

    @Test(
        "a body without a readable username is refused by the gateway, never forwarded",
        arguments: [
            #"{"password":"x"}"#, #"{"username":5,"password":"x"}"#, "not json",
        ])
    func noUsername(body: String) async throws {
        try await withStack { gateway in
            let response = try await gateway.send(.POST, "/auth/login", body: body)
            #expect(response.status == .badRequest)
            #expect(response.json["code"] as? String == "bad_login_body")
            #expect(try await events(gateway, .loginFailed).isEmpty)
        }
    }

    @Test("pipelined chunked attempts on one connection are forwarded whole, then refused in order")
    func pipelinedChunkedAttempts() async throws {
        try await withStack { gateway in
            try await register(gateway, "alice")
            let body = #"{"username":"alice","password":"wrong password"}"#
            let chunked = String(body.utf8.count, radix: 16) + "\r\n" + body + "\r\n0\r\n\r\n"
            let request = ["POST /auth/login HTTP/1.1", "Host: localhost", "Content-Type: application/json", "Transfer-Encoding: chunked"]
            var bytes: [UInt8] = []
            for _ in 0..<4 { bytes += RawTLSClient.request(request, body: chunked) }
            bytes += RawTLSClient.request(request + ["Connection: close"], body: chunked)
            let answer = try await RawTLSClient.exchange(port: gateway.port, caPath: Fixtures.caCertificate, bytes: bytes)
            let statuses = answer.components(separatedBy: "HTTP/1.1 ").dropFirst().map { String($0.prefix(3)) }
            #expect(statuses == ["401", "401", "401", "429", "429"])
            #expect(try await events(gateway, .loginFailed).count == 3)
            #expect(try await events(gateway, .loginLocked).count == 1)
        }
    }

    @Test("hundreds of attempts pipelined behind a lock are refused a few at a time, then the connection closes")
    func pipelinedFlood() async throws {
        try await withStack { gateway in
            let body = #"{"username":"alice","password":"wrong password"}"#
            let request = RawTLSClient.request(
                ["POST /auth/login HTTP/1.1", "Host: localhost", "Content-Type: application/json", "Content-Length: \(body.utf8.count)"],
                body: body)
            let bytes = Array(repeating: request, count: 500).flatMap { $0 }
            let answer = try await RawTLSClient.exchange(port: gateway.port, caPath: Fixtures.caCertificate, bytes: bytes)
            let statuses = answer.components(separatedBy: "HTTP/1.1 ").dropFirst().map { String($0.prefix(3)) }
            #expect(statuses.prefix(4) == ["401", "401", "401", "429"])
            #expect(statuses.count < 100, "answered re-entrantly only a few levels deep (\(statuses.count))")
            #expect(try await gateway.send("/health").status == .ok, "the gateway still serves new connections")
        }
    }

    @Test("parallel guesses cannot outrun the lock: at most two attempts per client are in flight")
    func parallelGuesses() async throws {
        try await withStack { gateway in
            try await register(gateway, "carol")
            let statuses = try await withThrowingTaskGroup(of: HTTPResponseStatus.self) { group in
                for _ in 0..<12 { group.addTask { try await login(gateway, "carol").status } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let forwarded = statuses.filter { $0 == .unauthorized }.count
            #expect(forwarded <= 4, "without the in-flight cap all 12 guesses would reach the userservice (\(forwarded) did)")
            #expect(statuses.filter { $0 == .tooManyRequests }.count == 12 - forwarded)
        }
    }

}
