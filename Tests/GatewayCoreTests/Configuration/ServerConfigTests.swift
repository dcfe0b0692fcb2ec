import GatewayCore
import Testing

@Suite("Config [server]")
struct ServerConfigTests {
    @Test(
        "accepts IPv4, bracketed IPv6 and host name listeners, and port 0",
        arguments: [
            ("127.0.0.1:8443", HostPort(host: "127.0.0.1", port: 8443)),
            ("[::1]:8443", HostPort(host: "::1", port: 8443)),
            ("localhost:443", HostPort(host: "localhost", port: 443)),
            ("0.0.0.0:0", HostPort(host: "0.0.0.0", port: 0)),
        ] as [(String, HostPort)])
    func acceptsListen(text: String, expected: HostPort) throws {
        let config = try ConfigFixture.config("[server]\nlisten = \"\(text)\"")
        #expect(config.server.listen == expected)
    }

    @Test(
        "rejects a malformed listen address",
        arguments: [
            "127.0.0.1", "[::1]", "::1:8443", "127.0.0.1:65536", "127.0.0.1:", ":8443", "256.0.0.1:80",
            "[localhost]:80", "127.0.0.1:80/", "host_name:80",
        ])
    func rejectsListen(text: String) {
        let problems = ConfigFixture.problems("[server]\nlisten = \"\(text)\"")
        #expect(
            problems == [
                "/srv/gw.conf:2: server.listen: invalid address \"\(text)\" (allowed: host:port or [ipv6]:port, port 0..65535)"
            ])
    }

    @Test("rejects a redirect listener on the listen address")
    func redirectOnListen() {
        let problems = ConfigFixture.problems(
            """
            [server]
            listen = "127.0.0.1:8443"
            redirect_http_listen = "127.0.0.1:8443"
            """)
        #expect(problems == ["/srv/gw.conf:3: server.redirect_http_listen: 127.0.0.1:8443 is also server.listen"])
    }

    @Test("acme_challenge_dir is taken from the config file's folder; without a redirect listener it is warned about")
    func acmeChallengeDir() throws {
        let config = try ConfigFixture.config("[server]\nredirect_http_listen = \"127.0.0.1:80\"\nacme_challenge_dir = \"acme\"")
        #expect(config.server.acmeChallengeDir == "/srv/acme")
        #expect(config.warnings.isEmpty)
        #expect(try ConfigFixture.config("").server.acmeChallengeDir == nil)
        let alone = try ConfigFixture.config("[server]\nacme_challenge_dir = \"/var/lib/gateway-acme\"")
        #expect(
            alone.warnings.map(\.description) == [
                "/srv/gw.conf:2: server.acme_challenge_dir: server.redirect_http_listen is not set: challenges are answered only on a redirect socket systemd passes"
            ])
    }

    @Test("parses trusted proxies, a bare address meaning a single host")
    func trustedProxies() throws {
        let config = try ConfigFixture.config(#"[server]\#ntrusted_proxies = ["10.0.0.0/8", "192.0.2.7", "fd00::/8"]"#)
        #expect(config.server.trustedProxies.map(\.description) == ["10.0.0.0/8", "192.0.2.7/32", "fd00::/8"])
    }

    @Test("rejects an invalid trusted proxy at the line of the element")
    func invalidTrustedProxy() {
        let problems = ConfigFixture.problems(
            """
            [server]
            trusted_proxies = [
              "10.0.0.0/8",
              "10.0.0.0/33",
              42,
            ]
            """)
        #expect(
            problems == [
                #"/srv/gw.conf:4: server.trusted_proxies[1]: invalid CIDR "10.0.0.0/33" (allowed: an IPv4 or IPv6 address with an optional /prefix, e.g. "10.0.0.0/8")"#,
                "/srv/gw.conf:5: server.trusted_proxies[2]: expected a string, found an integer",
            ])
    }

    @Test("rejects a header limit outside 1KiB..64KiB")
    func headerLimitRange() {
        let problems = ConfigFixture.problems("[server]\nmax_header_bytes = \"128KiB\"")
        #expect(problems == ["/srv/gw.conf:2: server.max_header_bytes: 128KiB is out of range (allowed: 1KiB..64KiB)"])
    }

    @Test("rejects a bare integer as a size")
    func sizeAsInteger() {
        let problems = ConfigFixture.problems("[server]\nmax_header_bytes = 16384")
        #expect(
            problems == [
                #"/srv/gw.conf:2: server.max_header_bytes: expected a size string, found an integer (allowed: an integer followed by B, KiB, MiB or GiB, e.g. "16KiB")"#
            ])
    }

    @Test("rejects a zero body limit")
    func zeroBodyLimit() {
        let problems = ConfigFixture.problems("[server]\nmax_body_bytes = \"0MiB\"")
        #expect(problems == ["/srv/gw.conf:2: server.max_body_bytes: 0MiB is out of range (allowed: 1B or more)"])
    }

    @Test("rejects a zero or malformed timeout")
    func invalidTimeouts() {
        let problems = ConfigFixture.problems(
            """
            [server]
            idle_timeout = "0s"
            request_header_timeout = "10 s"
            """)
        #expect(
            problems == [
                #"/srv/gw.conf:2: server.idle_timeout: invalid duration "0s" (allowed: a positive integer followed by ms, s, m, h or d, at most 3650d, e.g. "30s")"#,
                #"/srv/gw.conf:3: server.request_header_timeout: invalid duration "10 s" (allowed: a positive integer followed by ms, s, m, h or d, at most 3650d, e.g. "30s")"#,
            ])
    }

    @Test("rejects a bare integer as a duration")
    func durationAsInteger() {
        let problems = ConfigFixture.problems("[server]\nidle_timeout = 60")
        #expect(
            problems == [
                #"/srv/gw.conf:2: server.idle_timeout: expected a duration string, found an integer (allowed: a positive integer followed by ms, s, m, h or d, at most 3650d, e.g. "30s")"#
            ])
    }

    @Test("rejects zero connections")
    func zeroConnections() {
        let problems = ConfigFixture.problems("[server]\nmax_connections = 0")
        #expect(problems == ["/srv/gw.conf:2: server.max_connections: 0 is out of range (allowed: 1 or more)"])
    }

    @Test("HTTP/2 is on by default with 100 concurrent streams")
    func http2Defaults() throws {
        let config = try ConfigFixture.config("[server]")
        #expect(config.server.http2)
        #expect(config.server.http2MaxConcurrentStreams == 100)
    }

    @Test("decodes http2 and http2_max_concurrent_streams")
    func http2Keys() throws {
        let config = try ConfigFixture.config("[server]\nhttp2 = false\nhttp2_max_concurrent_streams = 16")
        #expect(!config.server.http2)
        #expect(config.server.http2MaxConcurrentStreams == 16)
    }

    @Test("rejects a concurrent stream limit out of range, and http2 that is not a boolean")
    func http2Invalid() {
        let problems = ConfigFixture.problems("[server]\nhttp2 = \"yes\"\nhttp2_max_concurrent_streams = 0")
        #expect(
            problems == [
                "/srv/gw.conf:2: server.http2: expected a boolean, found a string",
                "/srv/gw.conf:3: server.http2_max_concurrent_streams: 0 is out of range (allowed: 1..1000)",
            ])
    }
}
