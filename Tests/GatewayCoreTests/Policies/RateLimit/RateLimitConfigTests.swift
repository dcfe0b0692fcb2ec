import Testing

@testable import GatewayCore

@Suite("Config [rate_limit] and route rate_limit")
struct RateLimitConfigTests {
    @Test("reads default policies as rates or inline tables, and a route's own list")
    func policies() throws {
        let config = try ConfigFixture.config(
            """
            [rate_limit]
            default = ["200/day", { rate = "50/hour", key = "ip" }, { rate = "5/second", key = "header:X-Api-Key", mode = "shadow" }]
            ipv6_prefix = 56
            max_keys = 5000
            response_headers = false

            [[route]]
            path = "/users"
            upstream = "users"
            rate_limit = [{ rate = "10/minute", key = "claim:tenant" }]

            [[route]]
            path = "/health"
            upstream = "users"
            auth = "none"
            rate_limit = []
            """)
        #expect(
            config.rateLimit.defaultPolicies == [
                RatePolicyConfig(limit: 200, period: .day),
                RatePolicyConfig(limit: 50, period: .hour, key: .ip),
                RatePolicyConfig(limit: 5, period: .second, key: .header("x-api-key"), mode: .shadow),
            ])
        #expect(config.rateLimit.ipv6Prefix == 56)
        #expect(config.rateLimit.maxKeys == 5000)
        #expect(config.rateLimit.responseHeaders == false)
        #expect(config.routes[0].rateLimit == [RatePolicyConfig(limit: 10, period: .minute, key: .claim("tenant"))])
        #expect(config.routes[1].rateLimit == [])
    }

    @Test("refuses malformed rates, keys and modes, each at its element")
    func malformed() {
        let problems = ConfigFixture.problems(
            """
            [rate_limit]
            default = ["50/hours", "0/day", 5, { rate = "1/day", key = "cookie" }, { rate = "1/day", mode = "log" }, { key = "ip" }]
            """)
        let rate = RatePolicyConfig.rateFormat
        #expect(
            problems == [
                #"/srv/gw.conf:2: rate_limit.default[0]: invalid rate "50/hours" (allowed: \#(rate))"#,
                #"/srv/gw.conf:2: rate_limit.default[1]: invalid rate "0/day" (allowed: \#(rate))"#,
                "/srv/gw.conf:2: rate_limit.default[2]: expected a string or an inline table, found an integer",
                #"/srv/gw.conf:2: rate_limit.default[3].key: unsupported key "cookie" (allowed: \#(RatePolicyConfig.keyFormat))"#,
                #"/srv/gw.conf:2: rate_limit.default[4].mode: unsupported value "log" (allowed: enforce, shadow)"#,
                "/srv/gw.conf:2: rate_limit.default[5].rate: missing required key",
            ])
    }

    @Test("two policies of one list may not count the same period by the same key")
    func duplicatePeriodAndKey() {
        #expect(
            ConfigFixture.problems("[rate_limit]\ndefault = [\"50/hour\", \"60/hour\", { rate = \"5/hour\", key = \"ip\" }]") == [
                "/srv/gw.conf:2: rate_limit.default[1]: another policy already counts per hour by subject_or_ip"
            ])
    }

    @Test("a subject or claim key needs a token on every route it applies to")
    func identityKeys() {
        let problems = ConfigFixture.problems(
            """
            [rate_limit]
            default = [{ rate = "50/hour", key = "subject" }]

            [[route]]
            path = "/users"
            upstream = "users"

            [[route]]
            path = "/open"
            upstream = "users"
            auth = "optional"

            [[route]]
            path = "/health"
            upstream = "users"
            auth = "none"
            rate_limit = [{ rate = "5/second", key = "claim:tenant" }]
            """)
        #expect(
            problems == [
                #"/srv/gw.conf:2: rate_limit.default[0]: key subject needs auth = "required" on route[1] (/open); use subject_or_ip or ip"#,
                #"/srv/gw.conf:17: route[2].rate_limit[0]: key claim:tenant needs auth = "required" on route[2] (/health); use subject_or_ip or ip"#,
            ])
    }
}
