import Foundation
import GatewayCore
import NIOHTTP1
import Testing

/// Per-route authentication modes, scopes and roles, and configurable identity headers, end to end.
@Suite("Authorisation through the gateway")
struct GatewayAuthorisationTests {
    static let routes = [
        RouteConfig(path: "/open", upstream: "test", auth: .optional),
        RouteConfig(path: "/write", upstream: "test", scopes: ["write"]),
        RouteConfig(path: "/admin", upstream: "test", roles: ["admin"]),
    ]

    func withGateway(
        jwt: JWTConfig = JWTConfig(issuers: [IssuerConfig(issuer: "userservice", audience: "gateway")]),
        _ body: (GatewayHarness) async throws -> Void
    ) async throws {
        try await TestUpstream.with { upstream in
            var config = GatewayHarness.config(upstreams: ["test": upstream.port], routes: Self.routes)
            config.jwt = jwt
            try await GatewayHarness.with(config, body)
        }
    }

    static func token(scope: String = "read", roles: [String] = [], extra: [String: Any] = [:]) -> String {
        let now = Int(Date().timeIntervalSince1970)
        let claims: [String: Any] = [
            "sub": "42", "iss": "userservice", "aud": "gateway", "iat": now, "exp": now + 600, "scope": scope, "roles": roles,
        ]
        return IntegrationTokens.hs256(claims.merging(extra) { first, _ in first })
    }

    @Test("an optional route forwards anonymous requests without identity headers, and identified ones with them")
    func optional() async throws {
        try await withGateway { gateway in
            let anonymous = try await gateway.send("/open/echo", headers: ["X-Auth-Subject": "forged"])
            #expect(anonymous.status == .ok)
            #expect(anonymous.upstreamHeader("x-auth-subject").isEmpty)
            let identified = try await gateway.send("/open/echo", token: Self.token())
            #expect(identified.upstreamHeader("x-auth-subject") == ["42"])
            #expect(try await gateway.send("/open/echo", token: "not.a.token").status == .unauthorized)
        }
    }

    @Test("a path in other letter case gets the route's policy, and reaches the upstream as written")
    func letterCase() async throws {
        try await withGateway { gateway in
            #expect(try await gateway.send("/ADMIN/echo", token: Self.token()).status == .forbidden)
            #expect(try await gateway.send("/Admin/echo").status == .unauthorized)
            let allowed = try await gateway.send("/Admin/echo", token: Self.token(roles: ["admin"]))
            #expect(allowed.status == .ok)
            #expect(allowed.json["uri"] as? String == "/Admin/echo")
        }
    }

    @Test("a token without the route's scope is 403 insufficient_scope and audited as scope_denied")
    func missingScope() async throws {
        try await withGateway { gateway in
            let refused = try await gateway.send("/write/echo", token: Self.token(scope: "read"))
            #expect(refused.status == .forbidden)
            #expect(refused.headers["www-authenticate"] == [#"Bearer error="insufficient_scope", scope="write""#])
            #expect(refused.json["code"] as? String == "insufficient_scope")
            #expect(try await gateway.send("/write/echo", token: Self.token(scope: "read write")).status == .ok)
            let event = try #require(try await gateway.auditEvents().first)
            #expect(event.type == .scopeDenied)
            #expect(event.reason == "missing write")
        }
    }

    @Test("a route's roles are checked against the roles claim")
    func roles() async throws {
        try await withGateway { gateway in
            let withoutRole = try await gateway.send("/admin/echo", token: Self.token())
            let withRole = try await gateway.send("/admin/echo", token: Self.token(roles: ["admin"]))
            #expect(withoutRole.status == .forbidden)
            #expect(withRole.status == .ok)
        }
    }

    @Test("identity goes upstream under the configured header names; client copies of every x-auth header are stripped")
    func configuredHeaders() async throws {
        var jwt = JWTConfig(issuers: [IssuerConfig(issuer: "userservice", audience: "gateway")])
        jwt.subjectHeader = "X-User"
        jwt.scopesHeader = "X-User-Scopes"
        jwt.claimHeaders = [ClaimHeader(claim: "email", header: "X-User-Email"), ClaimHeader(claim: "tenant", header: "X-Tenant")]
        try await withGateway(jwt: jwt) { gateway in
            let response = try await gateway.send(
                "/open/echo", headers: ["X-User": "forged", "X-Auth-Anything": "forged", "X-Tenant": "forged"],
                token: Self.token(scope: "read write", extra: ["email": "a@example.com", "tenant": "evil\r\nX-Injected: 1"]))
            #expect(response.upstreamHeader("x-user") == ["42"])
            #expect(response.upstreamHeader("x-user-scopes") == ["read write"])
            #expect(response.upstreamHeader("x-user-email") == ["a@example.com"])
            #expect(response.upstreamHeader("x-tenant").isEmpty, "a claim that would break the header section is not forwarded")
            #expect(response.upstreamHeader("x-injected").isEmpty)
            #expect(response.upstreamHeader("x-auth-anything").isEmpty)
            let anonymous = try await gateway.send("/open/echo", headers: ["X-User-Email": "forged@example.com"])
            #expect(anonymous.upstreamHeader("x-user-email").isEmpty)
        }
    }
}
