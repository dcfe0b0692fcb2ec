import Foundation
import NIOHTTP1
import Testing

@testable import GatewayCore

@Suite("Authentication policy")
struct AuthPolicyTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    let policy = AuthPolicy(verifier: TokenVerifier(secret: TestTokens.secret, config: JWTConfig()))
    let protected = Route(index: 0, config: RouteConfig(path: "/p", upstream: "u"))
    let open = Route(index: 1, config: RouteConfig(path: "/o", upstream: "u", auth: .none))

    @Test("a missing token is 401 with a bare Bearer challenge")
    func missing() {
        #expect(throws: GatewayProblem.authRequired) { try policy.authenticate([:], route: protected, now: now) }
    }

    @Test("a bad token is 401 invalid_token")
    func invalid() {
        do {
            _ = try policy.authenticate(["Authorization": "Bearer abc.def.ghi"], route: protected, now: now)
            Issue.record("accepted")
        } catch {
            #expect(error.status == .unauthorized)
            #expect(error.headers.first?.1 == #"Bearer error="invalid_token""#)
        }
    }

    @Test("two Authorization headers are refused")
    func duplicate() {
        let token = TestTokens.make(claims: TestTokens.claims(now: now))
        let headers = HTTPHeaders([("Authorization", "Bearer \(token)"), ("Authorization", "Bearer \(token)")])
        #expect(throws: GatewayProblem.self) { try policy.authenticate(headers, route: protected, now: now) }
    }

    @Test("the scheme is case-insensitive")
    func scheme() throws {
        let token = TestTokens.make(claims: TestTokens.claims(now: now))
        let identity = try policy.authenticate(["Authorization": "bearer \(token)"], route: protected, now: now)
        #expect(identity?.subject == "42")
    }

    @Test("routes with auth none do not look at tokens")
    func none() throws {
        #expect(try policy.authenticate(["Authorization": "Bearer junk"], route: open, now: now) == nil)
    }

    @Test("without a configured secret, protected routes answer 503")
    func noSecret() {
        let policy = AuthPolicy(verifier: nil)
        #expect(throws: GatewayProblem.serviceUnavailable) { try policy.authenticate([:], route: protected, now: now) }
    }
}

@Suite("Authorisation and optional authentication")
struct AuthorisationTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    let policy = AuthPolicy(verifier: TokenVerifier(secret: TestTokens.secret, config: JWTConfig(rolesClaim: "groups")))

    func route(_ auth: AuthMode = .required, scopes: [String] = [], roles: [String] = []) -> Route {
        Route(index: 0, config: RouteConfig(path: "/r", upstream: "u", auth: auth, scopes: scopes, roles: roles))
    }

    func headers(scope: String = "user", extra: [String: Any] = [:]) -> HTTPHeaders {
        let token = TestTokens.make(claims: TestTokens.claims(now: now, extra: extra.merging(["scope": scope]) { a, _ in a }))
        return ["Authorization": "Bearer \(token)"]
    }

    @Test("an optional route passes anonymous requests and verifies tokens that are sent")
    func optional() throws {
        #expect(try policy.authenticate([:], route: route(.optional), now: now) == nil)
        #expect(try policy.authenticate(headers(), route: route(.optional), now: now)?.subject == "42")
        #expect(throws: GatewayProblem.invalidToken(.malformed)) {
            try policy.authenticate(["Authorization": "Bearer a.b.c"], route: route(.optional), now: now)
        }
    }

    @Test("every scope the route names is required, else 403 insufficient_scope")
    func scopes() throws {
        _ = try policy.authenticate(headers(scope: "read write"), route: route(scopes: ["read", "write"]), now: now)
        do {
            _ = try policy.authenticate(headers(scope: "read"), route: route(scopes: ["read", "write"]), now: now)
            Issue.record("accepted a token without the write scope")
        } catch {
            #expect(error.status == .forbidden)
            #expect(error.code == "insufficient_scope")
            #expect(error.headers.first?.1 == #"Bearer error="insufficient_scope", scope="read write""#)
            #expect(error.auditType == .scopeDenied)
            #expect(error.auditReason == "missing write")
        }
    }

    @Test("roles come from the configured claim, as an array or a space-separated string")
    func roles() throws {
        _ = try policy.authenticate(headers(extra: ["groups": ["admin", "ops"]]), route: route(roles: ["admin"]), now: now)
        _ = try policy.authenticate(headers(extra: ["groups": "ops admin"]), route: route(roles: ["admin"]), now: now)
        #expect(throws: GatewayProblem.self) {
            try policy.authenticate(headers(extra: ["roles": ["admin"]]), route: route(roles: ["admin"]), now: now)
        }
    }

    @Test("an optional route that requires scopes needs a token")
    func optionalWithScopes() {
        #expect(throws: GatewayProblem.authRequired) { try policy.authenticate([:], route: route(.optional, scopes: ["read"]), now: now) }
    }
}

@Suite("Token lifetime rules")
struct TokenLifetimeTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test("max_token_lifetime refuses long-lived tokens and tokens without iat")
    func maximumLifetime() throws {
        let verifier = TokenVerifier(secret: TestTokens.secret, config: JWTConfig(maxTokenLifetime: .seconds(3600)))
        _ = try verifier.verify(Substring(TestTokens.make(claims: TestTokens.claims(expiresIn: 3000, now: now))), now: now)
        #expect(throws: TokenRejection.lifetime) {
            try verifier.verify(Substring(TestTokens.make(claims: TestTokens.claims(expiresIn: 7200, now: now))), now: now)
        }
        let withoutIssuedAt = TestTokens.claims(now: now).filter { $0.key != "iat" }
        #expect(throws: TokenRejection.missingClaim("iat")) {
            try verifier.verify(Substring(TestTokens.make(claims: withoutIssuedAt)), now: now)
        }
    }

    @Test("require_exp = false accepts tokens without exp")
    func optionalExpiry() throws {
        let verifier = TokenVerifier(secret: TestTokens.secret, config: JWTConfig(requireExpiry: false))
        let identity = try verifier.verify(
            Substring(TestTokens.make(claims: TestTokens.claims(now: now).filter { $0.key != "exp" })), now: now)
        #expect(identity.expiresAt == .distantFuture)
    }
}
