import Foundation
import Logging
import NIOHTTP1
import Testing

@testable import GatewayCore

@Suite("Verified token cache")
struct VerifiedTokenCacheTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func identity(expiresIn: TimeInterval = 3600) -> VerifiedIdentity {
        VerifiedIdentity(subject: "42", scopes: [], expiresAt: now.addingTimeInterval(expiresIn))
    }

    @Test("a verified token is not verified again: a policy with another secret still accepts it from the cache")
    func hitSkipsVerification() throws {
        let cache = VerifiedTokenCache(capacity: 10)
        let route = Route(index: 0, config: RouteConfig(path: "/", upstream: "u"))
        let token = TestTokens.make(claims: TestTokens.claims(now: now))
        let headers: HTTPHeaders = ["Authorization": "Bearer \(token)"]
        let right = AuthPolicy(verifier: TokenVerifier(secret: TestTokens.secret, config: JWTConfig()))
        let wrong = AuthPolicy(verifier: TokenVerifier(secret: Array(repeating: 7, count: 32), config: JWTConfig()))
        #expect(throws: GatewayProblem.self) { try wrong.authenticate(headers, route: route, now: now, cache: cache) }
        #expect(try right.authenticate(headers, route: route, now: now, cache: cache)?.subject == "42")
        #expect(try wrong.authenticate(headers, route: route, now: now, cache: cache)?.subject == "42")
    }

    @Test("an entry ends when its token expires")
    func expiry() {
        let cache = VerifiedTokenCache(capacity: 10)
        cache.insert(identity(expiresIn: 60), for: "token", now: now)
        #expect(cache.identity(for: "token", now: now, leeway: 0) != nil)
        #expect(cache.identity(for: "token", now: now.addingTimeInterval(61), leeway: 0) == nil)
        #expect(cache.count == 0)
    }

    @Test("the cache holds at most its capacity, dropping the oldest first")
    func bounded() {
        let cache = VerifiedTokenCache(capacity: 3)
        for index in 0..<5 { cache.insert(identity(), for: Substring("token-\(index)"), now: now) }
        #expect(cache.count == 3)
        #expect(cache.identity(for: "token-0", now: now, leeway: 0) == nil)
        #expect(cache.identity(for: "token-1", now: now, leeway: 0) == nil)
        #expect(cache.identity(for: "token-4", now: now, leeway: 0) != nil)
    }

    @Test("a revoked token is refused even when cached")
    func revocationStillChecked() async throws {
        let store = try SQLiteStore.inMemory()
        let revocations = RevocationList(store: store, logger: .init(label: "test"))
        let policy = AuthPolicy(verifier: TokenVerifier(secret: TestTokens.secret, config: JWTConfig()), revocations: revocations)
        let cache = VerifiedTokenCache(capacity: 10)
        let route = Route(index: 0, config: RouteConfig(path: "/", upstream: "u"))
        let headers: HTTPHeaders = ["Authorization": "Bearer \(TestTokens.make(claims: TestTokens.claims(now: now, extra: ["jti": "j1"])))"]
        _ = try policy.authenticate(headers, route: route, now: now, cache: cache)
        try await store.addRevocation(Revocation(kind: .tokenID("j1"), revokedAt: now, expiresAt: nil))
        try await revocations.refresh()
        #expect(throws: GatewayProblem.invalidToken(.revoked)) { try policy.authenticate(headers, route: route, now: now, cache: cache) }
    }
}
