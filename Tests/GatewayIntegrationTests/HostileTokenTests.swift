import Crypto
import Foundation
import GatewayCore
import NIOHTTP1
import Testing
import _CryptoExtras

/// Hostile tokens against the real gateway: each refused with 401 and audited with the right reason.
@Suite("Hostile tokens through the gateway")
struct HostileTokenTests {
    static let rsa = try! _RSA.Signing.PrivateKey(keySize: .bits2048)

    static func claims(_ changes: [String: Any] = [:], removing: [String] = []) -> [String: Any] {
        let now = Int(Date().timeIntervalSince1970)
        var claims: [String: Any] = ["sub": "42", "iss": "userservice", "aud": "gateway", "iat": now, "exp": now + 600, "jti": "j"]
        for (key, value) in changes { claims[key] = value }
        for key in removing { claims[key] = nil }
        return claims
    }

    static func signed(_ header: [String: Any], _ claims: [String: Any], secret: Data = Data(Fixtures.jwtSecret.utf8)) -> String {
        IntegrationTokens.sign(header: header, claims: claims) { input in
            Data(HMAC<SHA256>.authenticationCode(for: input, using: SymmetricKey(data: secret)))
        }
    }

    /// Signed with the real secret, its claims name `sub` twice: `forge` for first-wins parsers, `admin` for last-wins ones.
    static var repeatedSubject: String {
        let claims = String(decoding: try! JSONSerialization.data(withJSONObject: claims(["sub": "forge"])), as: UTF8.self)
        let input =
            IntegrationTokens.base64URL(Data(#"{"alg":"HS256"}"#.utf8)) + "."
            + IntegrationTokens.base64URL(Data((claims.dropLast() + #","sub":"admin"}"#).utf8))
        let mac = HMAC<SHA256>.authenticationCode(for: Data(input.utf8), using: SymmetricKey(data: Data(Fixtures.jwtSecret.utf8)))
        return input + "." + IntegrationTokens.base64URL(Data(mac))
    }

    static var cases: [(name: String, token: String, type: AuditEventType, reason: String)] {
        let now = Int(Date().timeIntervalSince1970)
        let good = signed(["alg": "HS256"], claims())
        let parts = good.split(separator: ".").map(String.init)
        let pem = rsa.publicKey.pemRepresentation
        return [
            (
                "alg none", IntegrationTokens.sign(header: ["alg": "none"], claims: claims()) { _ in Data() }, .authInvalid,
                "algorithm not allowed"
            ),
            ("alg None", signed(["alg": "None"], claims()), .authInvalid, "algorithm not allowed"),
            ("alg NONE", signed(["alg": "NONE"], claims()), .authInvalid, "algorithm not allowed"),
            (
                "HS256 keyed with the RSA public key PEM", signed(["alg": "HS256"], claims(), secret: Data(pem.utf8)), .authInvalid,
                "signature invalid"
            ),
            ("wrong signature", parts[0] + "." + parts[1] + "." + String(parts[2].reversed()), .authInvalid, "signature invalid"),
            ("signature stripped", parts[0] + "." + parts[1] + ".", .authInvalid, "signature invalid"),
            ("truncated", parts[0] + "." + parts[1], .authInvalid, "malformed token"),
            ("garbled segment", parts[0] + ".%%%." + parts[2], .authInvalid, "malformed token"),
            (
                "non-JSON header", IntegrationTokens.base64URL(Data("not json".utf8)) + "." + parts[1] + "." + parts[2], .authInvalid,
                "malformed token"
            ),
            ("expired", signed(["alg": "HS256"], claims(["exp": now - 3600, "iat": now - 7200])), .authExpired, "token expired"),
            ("not yet valid", signed(["alg": "HS256"], claims(["nbf": now + 3600])), .authInvalid, "token not yet valid"),
            (
                "issued in the future", signed(["alg": "HS256"], claims(["iat": now + 3600, "exp": now + 7200])), .authInvalid,
                "token issued in the future"
            ),
            ("wrong issuer", signed(["alg": "HS256"], claims(["iss": "evil"])), .authInvalid, "issuer not accepted"),
            ("wrong audience", signed(["alg": "HS256"], claims(["aud": "other"])), .authInvalid, "audience not accepted"),
            ("missing exp", signed(["alg": "HS256"], claims(removing: ["exp"])), .authInvalid, "missing exp claim"),
            (
                "unknown kid", IntegrationTokens.sign(header: ["alg": "RS256", "kid": "nope"], claims: claims()) { _ in Data(count: 256) },
                .authInvalid, "unknown key id"
            ),
            (
                "kid with path characters",
                IntegrationTokens.sign(header: ["alg": "RS256", "kid": "../../etc/passwd"], claims: claims()) { _ in Data(count: 256) },
                .authInvalid, "unknown key id"
            ),
            (
                "kid with SQL",
                IntegrationTokens.sign(header: ["alg": "RS256", "kid": "x' OR '1'='1"], claims: claims()) { _ in Data(count: 256) },
                .authInvalid, "unknown key id"
            ),
            (
                "jku to elsewhere",
                signed(
                    ["alg": "HS256", "jku": "https://evil.example/jwks"], claims(),
                    secret: Data("attacker-secret-0123456789abcdef0123".utf8)), .authInvalid, "signature invalid"
            ),
            (
                "x5u to elsewhere",
                signed(
                    ["alg": "HS256", "x5u": "https://evil.example/cert"], claims(),
                    secret: Data("attacker-secret-0123456789abcdef0123".utf8)), .authInvalid, "signature invalid"
            ),
            ("oversized", signed(["alg": "HS256"], claims(["pad": String(repeating: "x", count: 9000)])), .authInvalid, "token too large"),
            (
                "duplicate header members",
                IntegrationTokens.base64URL(Data(#"{"alg":"HS256","alg":"none"}"#.utf8)) + "." + parts[1] + "." + parts[2], .authInvalid,
                TokenRejection.repeatedMember.reason
            ),
            ("repeated sub in the claims", repeatedSubject, .authInvalid, TokenRejection.repeatedMember.reason),
        ]
    }

    @Test("every hostile token is refused with 401 and audited with its reason")
    func hostileTable() async throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let pemPath = directory.appendingPathComponent("rsa.pem").path
        try Self.rsa.publicKey.pemRepresentation.write(toFile: pemPath, atomically: true, encoding: .utf8)
        let store = try SQLiteStore.inMemory()
        try await store.addRevocation(Revocation(kind: .tokenID("revoked-jti"), revokedAt: Date(), expiresAt: nil))
        let cases =
            Self.cases + [
                ("revoked jti", Self.signed(["alg": "HS256"], Self.claims(["jti": "revoked-jti"])), .authRevoked, "token revoked")
            ]
        try await TestUpstream.with { upstream in
            var config = GatewayHarness.config(upstreams: ["test": upstream.port], routes: [RouteConfig(path: "/", upstream: "test")])
            config.server.maxHeaderBytes = 32 * 1024
            config.jwt = JWTConfig(issuers: [
                IssuerConfig(issuer: "userservice", algorithms: [.hs256, .rs256], publicKeyFile: pemPath, audience: "gateway")
            ])
            try await GatewayHarness.with(config, store: store) { gateway in
                for hostile in cases {
                    let response = try await gateway.send("/echo", token: hostile.token)
                    #expect(response.status == .unauthorized, "\(hostile.name)")
                    #expect(response.headers["www-authenticate"] == [#"Bearer error="invalid_token""#], "\(hostile.name)")
                    let event = try await gateway.auditEvents().first
                    #expect(event?.type == hostile.type, "\(hostile.name)")
                    #expect(event?.reason == hostile.reason, "\(hostile.name)")
                    #expect(event?.tokenFingerprint == AuditEvent.fingerprint(ofToken: hostile.token), "\(hostile.name)")
                }
                let valid = try await gateway.send("/echo", token: Self.signed(["alg": "HS256"], Self.claims()))
                #expect(valid.status == .ok)
                let rsaToken = IntegrationTokens.sign(header: ["alg": "RS256"], claims: Self.claims()) { input in
                    try! Self.rsa.signature(for: SHA256.hash(data: input), padding: .insecurePKCS1v1_5).rawRepresentation
                }
                #expect(try await gateway.send("/echo", token: rsaToken).status == .ok)
            }
        }
    }
}
