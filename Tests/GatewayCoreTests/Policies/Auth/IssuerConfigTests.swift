import Testing

@testable import GatewayCore

@Suite("Config [[jwt.issuers]]")
struct IssuerConfigTests {
    @Test("reads several issuers, each with its own algorithms, keys and audience")
    func severalIssuers() throws {
        let config = try ConfigFixture.config(
            """
            [jwt]
            leeway = "10s"

            [[jwt.issuers]]
            issuer = "userservice"
            algorithms = ["HS256"]
            secret_file = "jwt-secret"

            [[jwt.issuers]]
            issuer = "https://idp.example/"
            algorithms = ["RS256", "ES256"]
            jwks_url = "https://idp.example/jwks.json"
            jwks_max_stale = "2d"
            audience = "gateway"
            """)
        #expect(config.jwt.leeway == .seconds(10))
        #expect(config.jwt.issuers.map(\.issuer) == ["userservice", "https://idp.example/"])
        #expect(config.jwt.issuers.map(\.configPath) == ["jwt.issuers[0]", "jwt.issuers[1]"])
        #expect(config.jwt.issuers[0].secretFile == "/srv/jwt-secret")
        #expect(config.jwt.issuers[1].algorithms == [.rs256, .es256])
        #expect(config.jwt.issuers[1].jwksMaxStale == .seconds(2 * 86_400))
        #expect(config.jwt.issuers[1].audience == "gateway")
        #expect(config.jwt.issuers[0].audience == nil)
    }

    @Test("an issuer entry must name its iss and its algorithms")
    func entryNeedsIssuerAndAlgorithms() {
        let allowed = JWSAlgorithm.allCases.map(\.rawValue).joined(separator: ", ")
        #expect(
            ConfigFixture.problems("[[jwt.issuers]]\naudience = \"gateway\"") == [
                "/srv/gw.conf:1: jwt.issuers[0].issuer: missing required key",
                "/srv/gw.conf:1: jwt.issuers[0].algorithms: missing required key (allowed: \(allowed))",
            ])
    }

    @Test("issuer keys in [jwt] itself are refused once [[jwt.issuers]] is used")
    func noLoneKeysBesideEntries() {
        let problems = ConfigFixture.problems(
            """
            [jwt]
            algorithms = ["HS256"]
            audience = "gateway"

            [[jwt.issuers]]
            issuer = "userservice"
            algorithms = ["HS256"]
            """)
        #expect(
            problems == [
                "/srv/gw.conf:2: jwt.algorithms: with [[jwt.issuers]], set this in each issuer entry instead",
                "/srv/gw.conf:3: jwt.audience: with [[jwt.issuers]], set this in each issuer entry instead",
            ])
    }

    @Test("issuers must differ in iss and JWKS URL, and at most one may take JWT_SECRET_KEY")
    func distinctIssuers() {
        let problems = ConfigFixture.problems(
            """
            [[jwt.issuers]]
            issuer = "a"
            algorithms = ["HS256"]

            [[jwt.issuers]]
            issuer = "a"
            algorithms = ["HS512"]

            [[jwt.issuers]]
            issuer = "b"
            algorithms = ["ES256"]
            jwks_url = "https://idp/jwks"
            audience = "gateway"

            [[jwt.issuers]]
            issuer = "c"
            algorithms = ["ES256"]
            jwks_url = "https://idp/jwks"
            audience = "gateway"
            """)
        #expect(
            problems == [
                "/srv/gw.conf:5: jwt.issuers[1].secret_file: missing: jwt.issuers[0] already takes its secret from JWT_SECRET_KEY; give each HMAC issuer a secret_file",
                #"/srv/gw.conf:6: jwt.issuers[1].issuer: duplicate issuer "a", already used by jwt.issuers[0]"#,
                #"/srv/gw.conf:18: jwt.issuers[3].jwks_url: "https://idp/jwks" is already used by jwt.issuers[2]"#,
            ])
    }

    @Test("jwks_max_stale is at least an hour and at least jwks_refresh")
    func maxStale() {
        #expect(
            ConfigFixture.problems(
                "[jwt]\nalgorithms = [\"ES256\"]\njwks_url = \"https://idp/j\"\njwks_max_stale = \"30m\"\naudience = \"gw\"") == [
                    "/srv/gw.conf:4: jwt.jwks_max_stale: must be at least 1h and at least jwks_refresh"
                ])
    }

    @Test("a route may only name configured issuers, and not on a route without authentication")
    func routeIssuers() {
        let problems = ConfigFixture.problems(
            """
            [jwt]
            issuer = "userservice"
            algorithms = ["HS256"]
            [[route]]
            path = "/a"
            upstream = "users"
            issuers = ["userservice", "nobody"]

            [[route]]
            path = "/b"
            upstream = "users"
            auth = "none"
            issuers = ["userservice"]
            """)
        #expect(
            problems == [
                #"/srv/gw.conf:7: route[0].issuers[1]: no [jwt] issuer is "nobody" (allowed: "userservice")"#,
                #"/srv/gw.conf:12: route[1].auth: must not be "none" on a route that requires scopes, roles or issuers (allowed: required, optional)"#,
            ])
    }
}
