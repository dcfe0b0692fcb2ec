import GatewayCore
import Testing

@Suite("Config [tls] and [jwt]")
struct TLSAndJWTConfigTests {
    @Test("reads the token rules and identity header names of [jwt]")
    func jwtRules() throws {
        let config = try ConfigFixture.config(
            """
            [jwt]
            require_exp = false
            max_token_lifetime = "1h"
            roles_claim = "groups"
            subject_header = "X-User"
            scopes_header = "X-User-Scopes"
            claim_headers = ["email=X-User-Email"]
            token_cache_entries = 0
            """)
        #expect(config.jwt.claimHeaders == [ClaimHeader(claim: "email", header: "X-User-Email")])
        #expect(config.jwt.tokenCacheEntries == 0)
        #expect(config.jwt.requireExpiry == false)
        #expect(config.jwt.maxTokenLifetime == .seconds(3600))
        #expect(config.jwt.rolesClaim == "groups")
        #expect(config.jwt.subjectHeader == "X-User")
        #expect(config.jwt.scopesHeader == "X-User-Scopes")
    }

    @Test("refuses none and unknown algorithms, and public-key algorithms without a key")
    func algorithms() throws {
        #expect(try ConfigFixture.config("[jwt]\nalgorithms = [\"HS256\", \"HS512\"]").jwt.issuers[0].algorithms == [.hs256, .hs512])
        let allowed = "HS256, HS384, HS512, RS256, RS384, RS512, PS256, ES256, ES384, EdDSA"
        #expect(
            ConfigFixture.problems("[jwt]\nalgorithms = [\"none\"]") == [
                #"/srv/gw.conf:2: jwt.algorithms[0]: unsupported algorithm "none" (allowed: \#(allowed))"#
            ])
        #expect(
            ConfigFixture.problems("[jwt]\nalgorithms = []") == [
                #"/srv/gw.conf:2: jwt.algorithms: must name at least one algorithm (allowed: \#(allowed))"#
            ])
        #expect(
            ConfigFixture.problems("[jwt]\nalgorithms = [\"RS256\"]") == [
                "/srv/gw.conf:2: jwt.algorithms: public-key algorithms need jwt.public_key_file, jwt.jwks_file or jwt.jwks_url"
            ])
        #expect(
            ConfigFixture.problems("[jwt]\nalgorithms = [\"ES256\"]\njwks_url = \"http://idp/jwks\"") == [
                "/srv/gw.conf:2: jwt.algorithms: public-key algorithms need jwt.public_key_file, jwt.jwks_file or jwt.jwks_url",
                #"/srv/gw.conf:3: jwt.jwks_url: "http://idp/jwks" is not an https URL (allowed: https://host[:port]/path)"#,
            ])
        let remote = try ConfigFixture.config(
            "[jwt]\nalgorithms = [\"ES256\"]\njwks_url = \"https://idp.example/jwks.json\"\naudience = \"gateway\"")
        #expect(remote.jwt.issuers[0].jwksURL == "https://idp.example/jwks.json")
        #expect(remote.jwt.issuers[0].jwksRefresh == .seconds(600))
    }

    @Test("refuses claim headers that would touch framing or repeat a header")
    func claimHeaderNames() {
        #expect(
            ConfigFixture.problems("[jwt]\nclaim_headers = [\"x=Content-Type\"]") == [
                #"/srv/gw.conf:2: jwt.claim_headers[0]: "Content-Type" is a header the gateway sets or strips itself"#
            ])
        #expect(
            ConfigFixture.problems("[jwt]\nclaim_headers = [\"a=X-A\", \"b=x-a\"]") == [
                "/srv/gw.conf:2: jwt.claim_headers: must not name the same header twice"
            ])
    }

    @Test("refuses identity header names the gateway cannot set safely")
    func badIdentityHeaders() {
        let problems = ConfigFixture.problems(
            """
            [jwt]
            subject_header = "X_User"
            scopes_header = "X-Forwarded-For"
            """)
        #expect(
            problems == [
                #"/srv/gw.conf:2: jwt.subject_header: "X_User" is not a valid header name (allowed: letters, digits and -)"#,
                #"/srv/gw.conf:3: jwt.scopes_header: "X-Forwarded-For" is a header the gateway sets or strips itself"#,
            ])
    }

    @Test("accepts TLS 1.3 as the minimum version")
    func minVersion13() throws {
        let config = try ConfigFixture.config(
            """
            [tls]
            certificate = "server.crt"
            private_key = "server.key"
            min_version = "1.3"
            """)
        #expect(config.tls.minVersion == .v1_3)
    }

    @Test("rejects an unsupported TLS version")
    func unsupportedTLSVersion() {
        let problems = ConfigFixture.problems(
            """
            [tls]
            certificate = "server.crt"
            private_key = "server.key"
            min_version = "1.1"
            """)
        #expect(problems == [#"/srv/gw.conf:4: tls.min_version: unsupported value "1.1" (allowed: 1.2, 1.3)"#])
    }

    @Test("rejects a TLS version written as a number")
    func tlsVersionAsNumber() {
        let problems = ConfigFixture.problems(
            """
            [tls]
            certificate = "server.crt"
            private_key = "server.key"
            min_version = 1.2
            """)
        #expect(problems == ["/srv/gw.conf:4: tls.min_version: expected a string, found a float"])
    }

    @Test("rejects an empty certificate path and a non-boolean hsts")
    func emptyPathAndBadBool() {
        let problems = ConfigFixture.problems(
            """
            [tls]
            certificate = ""
            private_key = "server.key"
            hsts = "yes"
            """)
        #expect(
            problems == [
                "/srv/gw.conf:2: tls.certificate: must not be empty",
                "/srv/gw.conf:4: tls.hsts: expected a boolean, found a string",
            ])
    }

    @Test("refuses an inline JWT secret", arguments: ["secret", "secret_key", "hmac_key", "password"])
    func inlineSecret(key: String) {
        let problems = ConfigFixture.problems("[jwt]\nissuer = \"userservice\"\n\(key) = \"hunter2\"")
        #expect(
            problems == [
                "/srv/gw.conf:3: jwt.\(key): secrets never come from the config file (allowed: secret_file = \"path\", or the JWT_SECRET_KEY environment variable)"
            ])
    }

    @Test("rejects a leeway over five minutes")
    func longLeeway() {
        let problems = ConfigFixture.problems("[jwt]\nleeway = \"10m\"")
        #expect(problems == ["/srv/gw.conf:2: jwt.leeway: 10m is too long (allowed: up to 5m)"])
    }

    @Test("accepts a leeway of exactly five minutes")
    func maximumLeeway() throws {
        let config = try ConfigFixture.config("[jwt]\nleeway = \"300s\"")
        #expect(config.jwt.leeway == .seconds(300))
    }

    @Test("rejects an empty issuer or audience")
    func emptyClaims() {
        let problems = ConfigFixture.problems("[jwt]\nissuer = \"\"\naudience = \"\"")
        #expect(
            problems == [
                "/srv/gw.conf:2: jwt.issuer: must not be empty",
                "/srv/gw.conf:3: jwt.audience: must not be empty",
            ])
    }
}
