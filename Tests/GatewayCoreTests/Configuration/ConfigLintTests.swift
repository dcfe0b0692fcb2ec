import Foundation
import Testing

@testable import GatewayCore

/// The linter: setups that parse and still are unsafe, refused with the key path and the reason;
/// weaker ones allowed with a warning. (The CORS origin rules are in CORSConfigTests.)
@Suite("Config linter")
struct ConfigLintTests {
    @Test("refuses trusted_proxies that trust every address", arguments: ["0.0.0.0/0", "::/0"])
    func trustEverything(_ cidr: String) {
        #expect(
            ConfigFixture.problems("[server]\ntrusted_proxies = [\"10.0.0.0/8\", \"\(cidr)\"]") == [
                #"/srv/gw.conf:2: server.trusted_proxies[1]: "\#(cidr)" trusts every address: any client could choose its own X-Forwarded-For (allowed: the proxies' own addresses or networks)"#
            ])
    }

    @Test("refuses an issuer without an algorithm allowlist when routes need tokens")
    func issuerWithoutAlgorithms() {
        #expect(
            ConfigFixture.problems("[jwt]\nissuer = \"userservice\"\n\n[tls]\ncertificate = \"c\"\nprivate_key = \"k\"") == [
                "/srv/gw.conf:1: jwt.algorithms: missing: routes require tokens, so name the algorithms they may be signed with (allowed: \(IssuerConfig.algorithmNames))"
            ])
        let publicOnly = """
            [[route]]
            path = "/"
            upstream = "users"
            auth = "none"
            """
        #expect(ConfigFixture.problems(inDocument: ConfigFixture.tls + "\n" + ConfigFixture.upstream + "\n" + publicOnly).isEmpty)
    }

    @Test("refuses an issuer verified with public keys that does not require an audience")
    func externalIssuerWithoutAudience() {
        #expect(
            ConfigFixture.problems("[jwt]\nalgorithms = [\"RS256\"]\njwks_url = \"https://idp.example/jwks\"") == [
                "/srv/gw.conf:1: jwt.audience: missing: an issuer verified with public keys is an identity provider others use too; require this gateway's audience"
            ])
    }

    @Test("refuses HS algorithms beside a JWKS URL for the same issuer")
    func hmacWithJWKS() {
        let problems = ConfigFixture.problems(
            """
            [[jwt.issuers]]
            issuer = "idp"
            algorithms = ["RS256", "HS256"]
            jwks_url = "https://idp.example/jwks"
            audience = "gateway"
            secret_file = "secret"
            """)
        #expect(
            problems == [
                "/srv/gw.conf:3: jwt.issuers[0].algorithms: HS algorithms beside jwks_url: an issuer that publishes its keys signs with private keys, not a shared secret"
            ])
    }

    @Test("refuses an auth = none route that reaches upstream paths a protected route guards, unless public = true")
    func publicOverlap() throws {
        let routes = """
            [[route]]
            path = "/users"
            upstream = "users"

            [[route]]
            path = "/open"
            upstream = "users"
            auth = "none"
            strip_prefix = true

            [[route]]
            path = "/users/avatars"
            upstream = "users"
            auth = "none"

            [[route]]
            path = "/health"
            upstream = "users"
            auth = "none"
            """
        #expect(
            ConfigFixture.problems(routes) == [
                #"/srv/gw.conf:8: route[1].auth: auth = "none" forwards to upstream "users" paths under /, which route[0] (/users) requires a token for; set public = true if that is intended"#,
                #"/srv/gw.conf:14: route[2].auth: auth = "none" forwards to upstream "users" paths under /users/avatars, which route[0] (/users) requires a token for; set public = true if that is intended"#,
            ])
        let declared = routes.replacingOccurrences(
            of: "auth = \"none\"\nstrip_prefix", with: "auth = \"none\"\npublic = true\nstrip_prefix"
        )
        .replacingOccurrences(of: "path = \"/users/avatars\"", with: "path = \"/users/avatars\"\npublic = true")
        _ = try ConfigFixture.config(declared)
    }

    @Test("warns, and still loads, with HSTS off or audit retention under 7 days")
    func warnings() throws {
        let config = try ConfigFixture.config(
            "[tls]\ncertificate = \"c\"\nprivate_key = \"k\"\nhsts = false\n\n[store]\naudit_retention = \"3d\"")
        #expect(
            config.warnings.map(\.description) == [
                "/srv/gw.conf:4: tls.hsts: HSTS is off: a browser may be talked into plain HTTP first",
                "/srv/gw.conf:7: store.audit_retention: audit events are kept 3d, less than 7d",
            ])
        #expect(try ConfigFixture.config("").warnings.isEmpty)
    }

    @Test("warns when the admin listener is not on a loopback address")
    func adminNotLoopback() throws {
        let config = try ConfigFixture.config("[admin]\nlisten = \"0.0.0.0:9901\"")
        #expect(
            config.warnings.map(\.description) == [
                "/srv/gw.conf:2: admin.listen: 0.0.0.0:9901 is not a loopback address: the admin listener is plain HTTP; allowed_clients still decides who may use it"
            ])
        for listen in ["127.0.0.1:9901", "[::1]:9901", "localhost:9901", "127.0.0.2:0"] {
            #expect(try ConfigFixture.config("[admin]\nlisten = \"\(listen)\"").warnings.isEmpty, "\(listen)")
        }
    }
}
