import Foundation
import NIOHTTP1
import Testing

@testable import GatewayCore

@Suite("HS256 token verification")
struct TokenVerifierTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    let verifier = TokenVerifier(
        secret: TestTokens.secret,
        config: JWTConfig(issuers: [IssuerConfig(issuer: "userservice", audience: "gateway")], leeway: .seconds(30)))

    func verify(_ token: String) throws(TokenRejection) -> VerifiedIdentity {
        try verifier.verify(Substring(token), now: now)
    }

    @Test("accepts a valid token and reads subject and scopes")
    func accepts() throws {
        let identity = try verify(TestTokens.make(claims: TestTokens.claims(now: now, extra: ["scope": "user admin"])))
        #expect(identity.subject == "42")
        #expect(identity.scopes == ["user", "admin"])
    }

    static let hostile: [(String, TokenRejection)] = {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let good = TestTokens.claims(now: now)
        let valid = TestTokens.make(claims: good)
        let parts = valid.split(separator: ".").map(String.init)
        return [
            (TestTokens.make(claims: good, alg: "none"), .algorithm),
            (TestTokens.make(claims: good, alg: "None"), .algorithm),
            (TestTokens.make(claims: good, alg: "NONE"), .algorithm),
            (TestTokens.make(claims: good, alg: "HS512"), .algorithm),
            (TestTokens.make(claims: good, alg: "RS256"), .algorithm),
            (parts[0] + "." + parts[1] + ".", .signature),
            (parts[0] + "." + parts[1], .malformed),
            (parts[0] + "." + parts[1] + "." + parts[2] + ".x", .malformed),
            (TestTokens.make(claims: good, secret: Array("another-secret-0123456789-abcdefghij".utf8)), .signature),
            (parts[0] + "." + TestTokens.base64URL(TestTokens.json(TestTokens.claims(sub: "1", now: now))) + "." + parts[2], .signature),
            ("!!!." + parts[1] + "." + parts[2], .malformed),
            (TestTokens.make(header: "not json", payload: "{}"), .malformed),
            (TestTokens.make(claims: TestTokens.claims(expiresIn: -31, now: now)), .expired),
            (TestTokens.make(claims: TestTokens.claims(now: now, extra: ["nbf": Int(now.timeIntervalSince1970) + 120])), .notYetValid),
            (TestTokens.make(claims: TestTokens.claims(now: now, extra: ["iat": Int(now.timeIntervalSince1970) + 120])), .issuedInFuture),
            (TestTokens.make(claims: TestTokens.claims(now: now, extra: ["iss": "someone-else"])), .issuer),
            (TestTokens.make(claims: TestTokens.claims(now: now, extra: ["aud": "other"])), .audience),
            (TestTokens.make(claims: good.filter { $0.key != "exp" }), .missingClaim("exp")),
            (TestTokens.make(claims: good.filter { $0.key != "sub" }), .missingClaim("sub")),
            (TestTokens.make(claims: TestTokens.claims(now: now, extra: ["exp": "tomorrow"])), .malformed),
            (TestTokens.make(claims: TestTokens.claims(now: now, extra: ["pad": String(repeating: "x", count: 8 * 1024)])), .tooLarge),
        ]
    }()

    @Test("refuses hostile tokens with the right reason", arguments: hostile)
    func refuses(_ example: (token: String, rejection: TokenRejection)) {
        #expect(throws: example.rejection) { try verify(example.token) }
    }

    @Test("refuses a member name repeated in the header or the claims, at any depth: parsers disagree on which counts")
    func repeatedMembers() {
        let claims = String(decoding: TestTokens.json(TestTokens.claims(now: now)), as: UTF8.self)
        let tokens = [
            TestTokens.repeatedSubject(now: now),
            TestTokens.make(header: #"{"alg":"HS256","alg":"none"}"#, payload: claims),
            TestTokens.make(header: #"{"alg":"HS256","typ":"JWT"}"#, payload: claims.dropLast() + #","ctx":{"a":1,"\u0061":2}}"#),
        ]
        for token in tokens {
            #expect(throws: TokenRejection.repeatedMember) { try verify(token) }
        }
    }

    @Test("the token cache never admits a token with a repeated claim")
    func repeatedMemberNotCached() {
        let cache = VerifiedTokenCache(capacity: 10)
        let token = TestTokens.repeatedSubject(now: now)
        let policy = AuthPolicy(verifier: verifier)
        let route = Route(index: 0, config: RouteConfig(path: "/", upstream: "u"))
        for _ in 0..<2 {
            #expect(throws: GatewayProblem.invalidToken(.repeatedMember)) {
                try policy.authenticate(["Authorization": "Bearer \(token)"], route: route, now: now, cache: cache)
            }
        }
        #expect(cache.count == 0)
    }

    @Test("leeway tolerates small clock skew")
    func leeway() throws {
        _ = try verify(TestTokens.make(claims: TestTokens.claims(expiresIn: -29, now: now)))
        _ = try verify(TestTokens.make(claims: TestTokens.claims(now: now, extra: ["nbf": Int(now.timeIntervalSince1970) + 29])))
    }

    @Test("audience may be an array")
    func audienceArray() throws {
        _ = try verify(TestTokens.make(claims: TestTokens.claims(now: now, extra: ["aud": ["other", "gateway"]])))
    }
}
