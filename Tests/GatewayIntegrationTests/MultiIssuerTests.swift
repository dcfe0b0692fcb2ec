import Crypto
import Foundation
import GatewayCore
import NIOHTTP1
import Testing

/// Two issuers behind one gateway, each token verified under the issuer its `iss` names: the
/// userservice (HS256, the shared secret) and an identity provider (ES256 from a JWKS URL).
@Suite("Several token issuers")
struct MultiIssuerTests {
    let idpKey = P256.Signing.PrivateKey()

    func claims(issuer: String?) -> [String: Any] {
        let now = Int(Date().timeIntervalSince1970)
        var claims: [String: Any] = ["sub": "42", "aud": "gateway", "iat": now, "exp": now + 600]
        claims["iss"] = issuer
        return claims
    }

    func idpToken(issuer: String? = "idp") -> String {
        IntegrationTokens.es256(header: ["alg": "ES256", "kid": "a"], claims: claims(issuer: issuer), key: idpKey)
    }

    func userserviceToken(issuer: String? = "userservice") -> String {
        IntegrationTokens.hs256(claims(issuer: issuer))
    }

    func withGateway(_ body: (GatewayHarness) async throws -> Void) async throws {
        try await TestDocumentServer.with(document: JWKSTests.jwks([("a", idpKey)])) { idp in
            try await TestUpstream.with { upstream in
                var config = GatewayHarness.config(
                    upstreams: ["test": upstream.port],
                    routes: [
                        RouteConfig(path: "/", upstream: "test"),
                        RouteConfig(path: "/internal", upstream: "test", issuers: ["userservice"]),
                    ])
                config.jwt = JWTConfig(issuers: [
                    IssuerConfig(issuer: "userservice", algorithms: [.hs256], audience: "gateway", configPath: "jwt.issuers[0]"),
                    IssuerConfig(
                        issuer: "idp", algorithms: [.es256], jwksURL: idp.url, jwksCAFile: Fixtures.caCertificate, audience: "gateway",
                        configPath: "jwt.issuers[1]"),
                ])
                try await GatewayHarness.with(config) { gateway in try await body(gateway) }
            }
        }
    }

    @Test("a token of either issuer is accepted, and the upstream learns which issuer vouched for it")
    func bothIssuers() async throws {
        try await withGateway { gateway in
            let local = try await gateway.send("/echo", headers: ["X-Auth-Issuer": "forged"], token: userserviceToken())
            #expect(local.status == .ok)
            #expect(local.upstreamHeader("X-Auth-Issuer") == ["userservice"])
            let external = try await gateway.send("/echo", token: idpToken())
            #expect(external.status == .ok)
            #expect(external.upstreamHeader("X-Auth-Issuer") == ["idp"])
            #expect(external.upstreamHeader("X-Auth-Subject") == ["42"])
        }
    }

    @Test(
        "a token is verified only with the keys and algorithms of the issuer it names",
        arguments: [
            ("ES256 signed by the identity provider, claiming the userservice", "idp-as-userservice", "algorithm not allowed"),
            ("HS256 with the userservice secret, claiming the identity provider", "userservice-as-idp", "algorithm not allowed"),
            ("an issuer nobody configured", "unknown", "issuer not trusted"),
            ("no iss claim at all", "none", "issuer not trusted"),
        ])
    func crossIssuer(_ description: String, _ kind: String, _ reason: String) async throws {
        let token =
            switch kind {
            case "idp-as-userservice": idpToken(issuer: "userservice")
            case "userservice-as-idp": userserviceToken(issuer: "idp")
            case "unknown": userserviceToken(issuer: "someone-else")
            default: userserviceToken(issuer: nil)
            }
        try await withGateway { gateway in
            let response = try await gateway.send("/echo", token: token)
            #expect(response.status == .unauthorized, "\(description)")
            #expect(response.json["detail"] as? String == "The bearer token was rejected: \(reason).", "\(description)")
        }
    }

    @Test("a route that names its issuers refuses a valid token of another issuer")
    func routeIssuers() async throws {
        try await withGateway { gateway in
            #expect(try await gateway.send("/internal/echo", token: userserviceToken()).status == .ok)
            let refused = try await gateway.send("/internal/echo", token: idpToken())
            #expect(refused.status == .unauthorized)
            #expect(refused.json["detail"] as? String == "The bearer token was rejected: issuer not accepted on this route.")
            #expect(refused.headers.first(name: "www-authenticate")?.contains(#"error="invalid_token""#) == true)
        }
    }
}
