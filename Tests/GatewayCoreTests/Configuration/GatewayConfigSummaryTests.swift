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
}
