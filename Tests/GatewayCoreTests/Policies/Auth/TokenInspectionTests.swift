import Foundation
import Testing

@testable import GatewayCore

@Suite("Token inspection")
struct TokenInspectionTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    let config = JWTConfig(
        issuers: [IssuerConfig(issuer: "userservice", audience: "gateway")], leeway: .seconds(30), maxTokenLifetime: .seconds(7_200))

    func inspect(_ token: String, revocations: [Revocation]? = []) -> TokenInspection {
        let verifier = TokenVerifier(secret: TestTokens.secret, config: config)
        return TokenInspection(token: Substring(token), verifier: verifier, revocations: revocations, now: now)
    }

    func failures(_ inspection: TokenInspection) -> [String] {
        inspection.results.compactMap { result in
            if case .failed(let reason) = result.outcome { reason } else { nil }
        }
    }

    @Test("a valid token passes every check, in the order the gateway makes them")
    func valid() {
        let inspection = inspect(TestTokens.make(claims: TestTokens.claims(now: now)))
        #expect(inspection.isAccepted)
        #expect(inspection.results.map(\.check) == TokenCheck.allCases)
        #expect(inspection.results.allSatisfy { $0.outcome == .passed })
        #expect(inspection.claims?.subject == "42")
    }

    static let duplicateHeader = TestTokens.make(
        header: #"{"alg":"HS256","alg":"none"}"#, payload: String(decoding: TestTokens.json(TestTokens.claims(now: Date())), as: UTF8.self))

    @Test("the first failure is the verifier's own rejection", arguments: TokenVerifierTests.hostile + [(duplicateHeader, .repeatedMember)])
    func agreesWithVerifier(_ example: (token: String, rejection: TokenRejection)) {
        let inspection = inspect(example.token)
        #expect(!inspection.isAccepted)
        #expect(failures(inspection).first == example.rejection.reason)
    }

    @Test("a repeated header or claims member fails its own check, not well-formedness")
    func duplicateMember() {
        for token in [Self.duplicateHeader, TestTokens.repeatedSubject(now: now)] {
            let inspection = inspect(token)
            #expect(!inspection.isAccepted)
            #expect(inspection.results.first { $0.check == .wellFormed }?.outcome == .passed)
            #expect(
                inspection.results.first { $0.check == .uniqueMembers }?.outcome == .failed(reason: TokenRejection.repeatedMember.reason))
        }
    }

    @Test("every failing claim is reported, not only the first")
    func everyClaim() {
        let claims = TestTokens.claims(expiresIn: -3_600, now: now, extra: ["iss": "other", "aud": "other"])
        let inspection = inspect(TestTokens.make(claims: claims))
        #expect(failures(inspection) == ["token expired", "issuer not accepted", "audience not accepted"])
    }

    @Test("a lifetime over jwt.max_token_lifetime fails the lifetime check")
    func lifetime() {
        let inspection = inspect(TestTokens.make(claims: TestTokens.claims(expiresIn: 7_201, now: now)))
        #expect(failures(inspection) == [TokenRejection.lifetime.reason])
    }

    @Test("a subject revocation covers tokens issued before it")
    func revokedSubject() {
        let revocation = Revocation(kind: .subject("42"), revokedAt: now, expiresAt: nil)
        let inspection = inspect(TestTokens.make(claims: TestTokens.claims(now: now)), revocations: [revocation])
        #expect(!inspection.isAccepted)
        #expect(failures(inspection) == [TokenRejection.revoked.reason])
    }

    @Test("without revocations the check is not made and does not refuse")
    func noStore() {
        let inspection = inspect(TestTokens.make(claims: TestTokens.claims(now: now)), revocations: nil)
        #expect(inspection.isAccepted)
        #expect(inspection.results.last?.outcome == .notChecked(reason: "store not found, revocation not checked"))
    }

    @Test("with several issuers, a token naming none of them fails the trusted-issuer check before its signature")
    func untrustedIssuer() {
        let config = JWTConfig(issuers: [IssuerConfig(issuer: "a"), IssuerConfig(issuer: "b", audience: "elsewhere")])
        let verifier = TokenVerifier(secret: TestTokens.secret, config: config)
        let token = TestTokens.make(claims: TestTokens.claims(now: now, extra: ["iss": "c"]))
        let inspection = TokenInspection(token: Substring(token), verifier: verifier, revocations: [], now: now)
        let outcome = { (check: TokenCheck) in inspection.results.first { $0.check == check }?.outcome }
        #expect(outcome(.trustedIssuer) == .failed(reason: "issuer not trusted"))
        #expect(outcome(.signature) == .notChecked(reason: "not checked: needs the checks above"))
        #expect(inspection.issuer == nil)
        #expect(!inspection.isAccepted)

        let known = TokenInspection(
            token: Substring(TestTokens.make(claims: TestTokens.claims(now: now, extra: ["iss": "b"]))), verifier: verifier,
            revocations: [], now: now)
        #expect(known.issuer?.issuer == "b")
        #expect(failures(known) == ["audience not accepted"], "b's audience applies, a's does not")
    }
}
