import Foundation
import GatewayCore
import NIOHTTP1
import Testing

/// Security decisions of the real gateway land in the real SQLite audit trail, and revocations
/// written by `gateway token revoke` stop tokens on a running gateway.
@Suite("Audit trail and revocation")
struct AuditTrailTests {
    static let routes = [
        RouteConfig(path: "/", upstream: "test", auth: .none),
        RouteConfig(path: "/users", upstream: "test"),
    ]

    func withGateway(store: SQLiteStore? = nil, _ body: (GatewayHarness) async throws -> Void) async throws {
        try await TestUpstream.with { upstream in
            try await GatewayHarness.with(
                GatewayHarness.config(upstreams: ["test": upstream.port], routes: Self.routes), store: store, body)
        }
    }

    static func token(jti: String = UUID().uuidString, subject: String = "42", issuedSecondsAgo: Int = 10, expiresIn: Int = 3600) -> String
    {
        let now = Int(Date().timeIntervalSince1970)
        return IntegrationTokens.hs256([
            "sub": subject, "iss": "userservice", "aud": "gateway", "jti": jti, "iat": now - issuedSecondsAgo,
            "exp": now + expiresIn,
        ])
    }

    @Test("a missing token is audited as auth_missing with client, route, method and path")
    func authMissing() async throws {
        try await withGateway { gateway in
            let response = try await gateway.send("/users/me?access_token=secret-in-query")
            #expect(response.status == .unauthorized)
            let event = try #require(try await gateway.auditEvents().first)
            #expect(event.type == .authMissing)
            #expect(event.client == "127.0.0.1")
            #expect(event.route == "/users")
            #expect(event.method == "GET")
            #expect(event.path == "/users/me")
            #expect(event.status == 401)
            #expect(event.requestID == response.headers["x-request-id"].first)
            #expect(event.tokenFingerprint == nil)
        }
    }

    @Test("a rejected token is audited with its reason and a fingerprint, never the token")
    func authInvalid() async throws {
        try await withGateway { gateway in
            let token = Self.token()
            let forged = String(token.dropLast(4)) + "AAAA"
            _ = try await gateway.send("/users/me", token: forged)
            let event = try #require(try await gateway.auditEvents().first)
            #expect(event.type == .authInvalid)
            #expect(event.reason == "signature invalid")
            #expect(event.tokenFingerprint == AuditEvent.fingerprint(ofToken: forged))
            #expect(event.tokenFingerprint?.count == 12)
            let fields = [event.reason, event.path, event.tokenFingerprint, event.subject, event.client].compactMap { $0 }
            #expect(!fields.contains { $0.contains(forged) || $0.contains(String(forged.prefix(20))) })
        }
    }

    @Test("an expired token is audited as auth_expired")
    func authExpired() async throws {
        try await withGateway { gateway in
            _ = try await gateway.send("/users/me", token: Self.token(issuedSecondsAgo: 7200, expiresIn: -3600))
            #expect(try await gateway.auditEvents().first?.type == .authExpired)
        }
    }

    @Test("a rejected path is audited as bad_request with the reason")
    func badRequest() async throws {
        try await withGateway { gateway in
            let answer = try await RawTLSClient.exchange(
                port: gateway.port, caPath: Fixtures.caCertificate,
                bytes: RawTLSClient.request(["GET /a/%2e%2e/%2e%2e/etc HTTP/1.1", "Host: localhost", "Connection: close"]))
            #expect(answer.hasPrefix("HTTP/1.1 400"))
            let event = try #require(try await gateway.auditEvents().first)
            #expect(event.type == .badRequest)
            #expect(event.reason == "path_rejected: path escapes the root")
            #expect(event.status == 400)
        }
    }

    @Test("an unreachable upstream is audited as upstream_error")
    func upstreamError() async throws {
        let refusing = try RefusingPort()
        try await GatewayHarness.with(GatewayHarness.config(upstreams: ["test": refusing.port], routes: Self.routes)) { gateway in
            #expect(try await gateway.send("/anything").status == .badGateway)
            let event = try #require(try await gateway.auditEvents().first)
            #expect(event.type == .upstreamError)
            #expect(event.reason == "upstream_unavailable")
        }
        withExtendedLifetime(refusing) {}
    }

    @Test("allowed requests are not audited")
    func allowedNotAudited() async throws {
        try await withGateway { gateway in
            let response = try await gateway.send("/users/me", token: Self.token())
            let events = try await gateway.auditEvents()
            #expect(response.status == .ok)
            #expect(events.isEmpty)
        }
    }

    @Test("gateway token revoke --jti stops that token on a running gateway at its next revocation refresh")
    func revokeTokenID() async throws {
        try await withSharedStore { gateway, config in
            let token = Self.token(jti: "jti-to-revoke")
            let other = Self.token(jti: "jti-kept")
            #expect(try await gateway.send("/users/me", token: token).status == .ok)
            let revoked = try await runGateway(["token", "revoke", "--jti", "jti-to-revoke", "--config", config])
            #expect(revoked.status == 0, "\(revoked.output)")
            try await expectRefusedSoon(gateway, token: token)
            #expect(try await gateway.send("/users/me", token: other).status == .ok)
            let events = try await gateway.auditEvents()
            #expect(events.contains { $0.type == .authRevoked && $0.reason == "token revoked" })
            #expect(events.contains { $0.type == .tokenRevoked })
        }
    }

    @Test("gateway token revoke --subject stops every earlier token of that subject, not later ones")
    func revokeSubject() async throws {
        try await withSharedStore { gateway, config in
            let earlier = Self.token(subject: "7", issuedSecondsAgo: 60)
            #expect(try await gateway.send("/users/me", token: earlier).status == .ok)
            let revoked = try await runGateway(["token", "revoke", "--subject", "7", "--config", config])
            #expect(revoked.status == 0, "\(revoked.output)")
            try await expectRefusedSoon(gateway, token: earlier)
            let later = Self.token(subject: "7", issuedSecondsAgo: -2)
            try await Task.sleep(for: .seconds(3))
            #expect(try await gateway.send("/users/me", token: later).status == .ok)
            #expect(try await gateway.send("/users/me", token: Self.token(subject: "8", issuedSecondsAgo: 60)).status == .ok)
        }
    }

    /// A gateway whose store is a file that the `gateway` binary's config names too.
    func withSharedStore(_ body: (GatewayHarness, String) async throws -> Void) async throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try await TestUpstream.with { upstream in
            let config = try writeConfig(in: directory, upstreamPort: upstream.port)
            let store = try SQLiteStore(path: directory.appendingPathComponent("gateway.sqlite").path)
            try await GatewayHarness.with(
                GatewayHarness.config(upstreams: ["test": upstream.port], routes: Self.routes), store: store
            ) { gateway in try await body(gateway, config) }
        }
    }

    /// Waits for the refusal: revocations are refreshed every second, but a loaded machine may take longer.
    func expectRefusedSoon(_ gateway: GatewayHarness, token: String) async throws {
        let deadline = ContinuousClock.now + .seconds(15)
        var status = HTTPResponseStatus.ok
        while ContinuousClock.now < deadline {
            let response = try await gateway.send("/users/me", token: token)
            status = response.status
            if status == .unauthorized {
                #expect(response.json["detail"] as? String == "The bearer token was rejected: token revoked.")
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("token still accepted 15 s after revocation (last status \(status))")
    }
}
