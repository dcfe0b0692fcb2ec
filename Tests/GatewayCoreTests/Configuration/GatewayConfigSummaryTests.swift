import GatewayCore
import Testing

@Suite("Config summary")
struct GatewayConfigSummaryTests {
    @Test("lists listeners, upstreams, routes and the store")
    func summary() throws {
        let config = try ConfigFixture.config(
            """
            [server]
            listen = "[::1]:8443"
            redirect_http_listen = "[::1]:8080"
            trusted_proxies = ["10.0.0.0/8"]

            [[route]]
            path = "/auth"
            methods = ["POST", "OPTIONS"]
            upstream = "users"
            auth = "none"
            public = true
            strip_prefix = true

            [[route]]
            path = "/users"
            upstream = "users"
            """)
        #expect(
            config.summary == """
                config /srv/gw.conf
                listeners:
                  https://[::1]:8443 (TLS 1.2+, HSTS max-age 365d)
                  http://[::1]:8080 (redirects to https)
                trusted proxies: 10.0.0.0/8
                upstreams:
                  users → http://127.0.0.1:8081 (checked by TCP connect every 5s)
                token issuers:
                  any iss (HS256; keys: JWT_SECRET_KEY; audience not checked)
                routes:
                  POST,OPTIONS /auth (auth none, strip prefix) → users
                  * /users (auth required) → users
                store: /var/lib/gateway/gateway.sqlite (audit kept 30d, queue 10000, drop on overflow)
                """)
    }

    @Test("lists each certificate with the names it is chosen by when there are several")
    func certificates() throws {
        let config = try ConfigFixture.config(
            """
            [tls]

            [[tls.certificates]]
            certificate = "default.crt"
            private_key = "default.key"

            [[tls.certificates]]
            certificate = "api.crt"
            private_key = "api.key"
            server_names = ["api.example.com", "*.api.example.com"]
            """)
        let lines = config.summary.split(separator: "\n").map(String.init)
        #expect(
            Array(lines[2...4]) == [
                "  https://127.0.0.1:8443 (TLS 1.2+, HSTS max-age 365d)",
                "    certificate /srv/default.crt for the DNS names it holds, and by default",
                "    certificate /srv/api.crt for api.example.com, *.api.example.com",
            ])
    }
}

extension GatewayConfigSummaryTests {
    @Test("names the folder ACME challenges are answered from")
    func acmeChallenges() throws {
        let config = try ConfigFixture.config(
            "[server]\nredirect_http_listen = \"0.0.0.0:80\"\nacme_challenge_dir = \"/var/lib/gateway-acme\"")
        #expect(config.summary.contains("  http://0.0.0.0:80 (redirects to https; ACME challenges from /var/lib/gateway-acme)\n"))
    }
}
