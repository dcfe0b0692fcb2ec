import Crypto
import Foundation
import GatewayCore
import NIOHTTP1
import Testing

/// Keys from a JWKS URL served by a real local HTTPS server: rotation, a down identity provider
/// with a stored copy, and no keys at all.
@Suite("JWKS URL")
struct JWKSTests {
    let keyA = P256.Signing.PrivateKey()
    let keyB = P256.Signing.PrivateKey()

    static func jwks(_ keys: [(kid: String, key: P256.Signing.PrivateKey)]) -> String {
        let entries = keys.map { kid, key in
            let point = key.publicKey.x963Representation.dropFirst()
            return
                #"{"kty":"EC","crv":"P-256","alg":"ES256","kid":"\#(kid)","x":"\#(IntegrationTokens.base64URL(point.prefix(32)))","y":"\#(IntegrationTokens.base64URL(point.suffix(32)))"}"#
        }
        return #"{"keys":[\#(entries.joined(separator: ","))]}"#
    }

    func token(kid: String, key: P256.Signing.PrivateKey) -> String {
        let now = Int(Date().timeIntervalSince1970)
        return IntegrationTokens.es256(
            header: ["alg": "ES256", "kid": kid],
            claims: ["sub": "42", "iss": "idp", "aud": "gateway", "iat": now, "exp": now + 600], key: key)
    }

    func config(url: String, upstream: Int) -> GatewayConfig {
        var config = GatewayHarness.config(upstreams: ["test": upstream], routes: [RouteConfig(path: "/", upstream: "test")])
        config.jwt = JWTConfig(issuers: [
            IssuerConfig(issuer: "idp", algorithms: [.es256], jwksURL: url, jwksCAFile: Fixtures.caCertificate, audience: "gateway")
        ])
        return config
    }

    @Test("a rotation to a new kid is picked up without a restart")
    func rotation() async throws {
        try await TestDocumentServer.with(document: Self.jwks([("a", keyA)])) { idp in
            try await TestUpstream.with { upstream in
                try await GatewayHarness.with(config(url: idp.url, upstream: upstream.port)) { gateway in
                    #expect(try await gateway.send("/echo", token: token(kid: "a", key: keyA)).status == .ok)
                    idp.serve(Self.jwks([("b", keyB)]))
                    let rotated = token(kid: "b", key: keyB)
                    var status = HTTPResponseStatus.unauthorized
                    let deadline = ContinuousClock.now + .seconds(60)
                    while status != .ok, ContinuousClock.now < deadline {
                        status = try await gateway.send("/echo", token: rotated).status
                        if status != .ok { try await Task.sleep(for: .milliseconds(100)) }
                    }
                    #expect(status == .ok, "the new kid was not accepted within 60 s")
                    let fetches = idp.fetches
                    #expect(fetches == 2, "one fetch at start, one early refetch for the unknown kid")
                    // A flood of unknown kids does not turn into a flood of fetches (cooldown).
                    for _ in 0..<5 { _ = try await gateway.send("/echo", token: token(kid: "unknown", key: keyB)) }
                    try await Task.sleep(for: .milliseconds(500))
                    #expect(idp.fetches <= fetches + 1)
                }
            }
        }
    }

    @Test("with the identity provider down at start, the stored last good JWKS verifies tokens")
    func coldStartFromStore() async throws {
        let store = try SQLiteStore.inMemory()
        let refusing = try RefusingPort()
        let url = "https://localhost:\(refusing.port)/jwks.json"
        try await store.saveJWKS(source: url, document: Data(Self.jwks([("a", keyA)]).utf8), fetchedAt: Date())
        try await TestUpstream.with { upstream in
            try await GatewayHarness.with(config(url: url, upstream: upstream.port), store: store) { gateway in
                let response = try await gateway.send("/echo", token: token(kid: "a", key: keyA))
                #expect(response.status == .ok)
            }
        }
        withExtendedLifetime(refusing) {}
    }

    @Test("a stored JWKS older than jwks_max_stale no longer verifies tokens: 503 until the provider answers")
    func staleStoredCopy() async throws {
        let store = try SQLiteStore.inMemory()
        let refusing = try RefusingPort()
        let url = "https://localhost:\(refusing.port)/jwks.json"
        let eightDaysAgo = Date().addingTimeInterval(-8 * 86_400)
        try await store.saveJWKS(source: url, document: Data(Self.jwks([("a", keyA)]).utf8), fetchedAt: eightDaysAgo)
        try await TestUpstream.with { upstream in
            try await GatewayHarness.with(config(url: url, upstream: upstream.port), store: store) { gateway in
                let response = try await gateway.send("/echo", token: token(kid: "a", key: keyA))
                #expect(response.status == .serviceUnavailable)
            }
        }
        withExtendedLifetime(refusing) {}
    }

    @Test("with no key at all the answer is 503, not 401")
    func noKeys() async throws {
        let refusing = try RefusingPort()
        try await TestUpstream.with { upstream in
            let url = "https://localhost:\(refusing.port)/jwks.json"
            try await GatewayHarness.with(config(url: url, upstream: upstream.port)) { gateway in
                let response = try await gateway.send("/echo", token: token(kid: "a", key: keyA))
                #expect(response.status == .serviceUnavailable)
                #expect(response.json["code"] as? String == "keys_unavailable")
            }
        }
        withExtendedLifetime(refusing) {}
    }

    @Test("a fetched JWKS is saved in the store for the next cold start")
    func savedAfterFetch() async throws {
        let store = try SQLiteStore.inMemory()
        let url = try await TestDocumentServer.with(document: Self.jwks([("a", keyA)])) { idp in
            try await TestUpstream.with { upstream in
                try await GatewayHarness.with(config(url: idp.url, upstream: upstream.port), store: store) { _ in }
            }
            return idp.url
        }
        let saved = try #require(try await store.lastGoodJWKS(source: url))
        #expect(String(decoding: saved.document, as: UTF8.self).contains(#""kid":"a""#))
    }
}
