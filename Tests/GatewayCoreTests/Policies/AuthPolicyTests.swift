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
