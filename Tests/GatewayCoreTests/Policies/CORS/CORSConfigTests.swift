import Testing

@testable import GatewayCore

@Suite("Config [cors] and route cors")
struct CORSConfigTests {
    @Test("a route's cors keys go over [cors] key by key")
    func routeOverride() throws {
        let config = try ConfigFixture.config(
            """
            [cors]
            allowed_origins = ["https://app.example.com"]
            allow_credentials = true
            max_age = "1h"
            preflight_rate_limit = "30/minute"

            [[route]]
            path = "/users"
            upstream = "users"

            [[route]]
            path = "/public"
            upstream = "users"
            cors = { allowed_origins = ["https://*.example.com"], allow_credentials = false, enforce = true }
            """)
        let users = config.routes[0].cors
        #expect(users.allowedOrigins.map(\.description) == ["https://app.example.com"])
        #expect(users.allowCredentials && users.maxAge == .seconds(3600))
        let open = config.routes[1].cors
        #expect(open.allowedOrigins.map(\.description) == ["https://*.example.com"])
        #expect(!open.allowCredentials && open.enforce && open.maxAge == .seconds(3600))
        #expect(config.cors.preflightRateLimit == RatePolicyConfig(limit: 30, period: .minute, key: .ip))
    }

    @Test("refuses a wildcard origin with credentials")
    func wildcardWithCredentials() {
        #expect(
            ConfigFixture.problems("[cors]\nallowed_origins = [\"*\"]\nallow_credentials = true") == [
                #"/srv/gw.conf:2: cors.allowed_origins[0]: "*" with allow_credentials = true would let every site act as the signed-in user; list the origins"#
            ])
    }

    @Test("refuses the null origin with credentials")
    func nullWithCredentials() {
        #expect(
            ConfigFixture.problems("[cors]\nallowed_origins = [\"null\"]\nallow_credentials = true") == [
                #"/srv/gw.conf:2: cors.allowed_origins[0]: "null" with allow_credentials = true: any site can send Origin: null from a sandboxed frame"#
            ])
    }

    @Test("refuses an http origin unless allow_insecure_origins = true, in [cors] and in a route")
    func insecureOrigins() throws {
        let problems = ConfigFixture.problems(
            """
            [cors]
            allowed_origins = ["http://app.example.com"]

            [[route]]
            path = "/users"
            upstream = "users"
            cors = { allowed_origins = ["http://*.example.com"] }
            """)
        #expect(
            problems == [
                #"/srv/gw.conf:2: cors.allowed_origins[0]: "http://app.example.com" is served without TLS; use https, or set cors.allow_insecure_origins = true"#,
                #"/srv/gw.conf:7: route[0].cors.allowed_origins[0]: "http://*.example.com" is served without TLS; use https, or set cors.allow_insecure_origins = true"#,
            ])
        _ = try ConfigFixture.config("[cors]\nallowed_origins = [\"http://localhost:3000\"]\nallow_insecure_origins = true")
    }

    @Test("refuses what is not an origin, a method or a header name")
    func malformed() {
        let problems = ConfigFixture.problems(
            "[cors]\nallowed_origins = [\"https://app.example.com/\"]\nallowed_methods = [\"FETCH\"]\nallowed_headers = [\"X Bad\"]")
        #expect(
            problems == [
                #"/srv/gw.conf:2: cors.allowed_origins[0]: "https://app.example.com/" is not an origin (allowed: \#(CORSConfig.originFormat))"#,
                #"/srv/gw.conf:3: cors.allowed_methods[0]: unsupported method "FETCH" (allowed: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS)"#,
                #"/srv/gw.conf:4: cors.allowed_headers[0]: "X Bad" is not a header name (allowed: letters, digits and -)"#,
            ])
    }
}
