import GatewayCore
import Logging
import Testing

@Suite("Config [[upstream]]")
struct UpstreamConfigTests {
    /// The problems of a document whose only upstream has `url`.
    private func problems(url: String) -> [String] {
        ConfigFixture.problems("[[upstream]]\nname = \"users\"\nurl = \"\(url)\"")
    }

    @Test(
        "accepts http URLs with a port and at most a root path",
        arguments: [
            ("http://127.0.0.1:8081", HostPort(host: "127.0.0.1", port: 8081)),
            ("http://127.0.0.1:8081/", HostPort(host: "127.0.0.1", port: 8081)),
            ("HTTP://users.internal:80", HostPort(host: "users.internal", port: 80)),
            ("http://[fd00::1]:8081", HostPort(host: "fd00::1", port: 8081)),
        ] as [(String, HostPort)])
    func acceptsURL(url: String, expected: HostPort) throws {
        let config = try ConfigFixture.config("[[upstream]]\nname = \"users\"\nurl = \"\(url)\"")
        #expect(config.upstreams.first?.targets == [expected])
    }

    @Test(
        "rejects upstream URLs that are not plain http://host:port",
        arguments: [
            ("https://127.0.0.1:8443", "https is not supported: upstreams are plain HTTP on a private network"),
            ("ftp://127.0.0.1:21", #"unsupported scheme "ftp""#),
            ("127.0.0.1:8081", #"invalid URL "127.0.0.1:8081""#),
            ("http://127.0.0.1", "missing port"),
            ("http://127.0.0.1:8081/api", "a path (/api) is not allowed"),
            ("http://127.0.0.1:8081/?debug=1", "a query is not allowed"),
            ("http://127.0.0.1:8081#top", "a fragment is not allowed"),
            ("http://user:pw@127.0.0.1:8081", "user information is not allowed"),
            ("http://bad_host:8081", #"invalid host in "http://bad_host:8081""#),
        ] as [(String, String)])
    func rejectsURL(url: String, message: String) {
        #expect(problems(url: url) == ["/srv/gw.conf:3: upstream[0].url: \(message) (allowed: http://host:port)"])
    }

    @Test("rejects an upstream port outside 1..65535", arguments: ["0", "65536"])
    func rejectsPort(port: String) {
        #expect(
            problems(url: "http://127.0.0.1:\(port)") == [
                "/srv/gw.conf:3: upstream[0].url: port \(port) is out of range (allowed: 1..65535)"
            ])
    }

    @Test("rejects a name outside [a-z0-9_-]")
    func invalidName() {
        let problems = ConfigFixture.problems("[[upstream]]\nname = \"User Service\"\nurl = \"http://127.0.0.1:8081\"")
        #expect(
            problems.first
                == #"/srv/gw.conf:2: upstream[0].name: invalid name "User Service" (allowed: lower-case letters, digits, "_" and "-")"#)
    }

    @Test("rejects a name used twice, at the second use")
    func duplicateName() {
        let problems = ConfigFixture.problems(
            """
            [[upstream]]
            name = "users"
            url = "http://127.0.0.1:8081"

            [[upstream]]
            name = "users"
            url = "http://127.0.0.1:8082"
            """)
        #expect(problems == [#"/srv/gw.conf:6: upstream[1].name: duplicate name "users", already used by upstream[0]"#])
    }

    @Test("reports missing name and url at the entry's header")
    func missingKeys() {
        let problems = ConfigFixture.problems(
            """
            [[upstream]]
            name = "users"
            url = "http://127.0.0.1:8081"

            [[upstream]]
            connect_timeout = "1s"
            """)
        #expect(
            problems == [
                "/srv/gw.conf:5: upstream[1].name: missing required key",
                "/srv/gw.conf:5: upstream[1].url: missing required key (or targets, for several)",
            ])
    }

    @Test("rejects more than 1024 idle connections")
    func idleConnections() {
        let problems = ConfigFixture.problems(
            """
            [[upstream]]
            name = "users"
            url = "http://127.0.0.1:8081"
            max_idle_connections = 2000
            """)
        #expect(problems == ["/srv/gw.conf:4: upstream[0].max_idle_connections: 2000 is out of range (allowed: 0..1024)"])
    }

    @Test("takes several targets, in order, with health check settings")
    func targetsAndHealthCheck() throws {
        let config = try ConfigFixture.config(
            """
            [[upstream]]
            name = "users"
            targets = ["http://127.0.0.1:8081", "http://10.0.0.2:8081"]
            health_check = { path = "/healthz", interval = "3s", timeout = "1s", unhealthy_after = 3, healthy_after = 1 }
            """)
        let upstream = try #require(config.upstreams.first)
        #expect(upstream.targets == [HostPort(host: "127.0.0.1", port: 8081), HostPort(host: "10.0.0.2", port: 8081)])
        #expect(
            upstream.healthCheck
                == HealthCheckConfig(path: "/healthz", interval: .seconds(3), timeout: .seconds(1), unhealthyAfter: 3, healthyAfter: 1))
    }

    @Test("checks targets with a TCP connect every 5s by default")
    func healthCheckDefaults() throws {
        let config = try ConfigFixture.config("[[upstream]]\nname = \"users\"\nurl = \"http://127.0.0.1:8081\"")
        #expect(config.upstreams.first?.healthCheck == HealthCheckConfig())
        #expect(HealthCheckConfig().path == nil && HealthCheckConfig().interval == .seconds(5))
    }

    @Test(
        "refuses url beside targets, repeated or empty targets, and bad health check values",
        arguments: [
            (
                "url = \"http://127.0.0.1:1\"\ntargets = [\"http://127.0.0.1:2\"]",
                "/srv/gw.conf:4: upstream[0].targets: set either url or targets, not both"
            ),
            ("targets = []", "/srv/gw.conf:3: upstream[0].targets: at least one target is required"),
            (
                "targets = [\"http://127.0.0.1:2\", \"http://127.0.0.1:2\"]",
                "/srv/gw.conf:3: upstream[0].targets: 127.0.0.1:2 is listed twice"
            ),
            (
                "targets = [\"https://127.0.0.1:2\"]",
                "/srv/gw.conf:3: upstream[0].targets[0]: https is not supported: upstreams are plain HTTP on a private network (allowed: http://host:port)"
            ),
            (
                "url = \"http://127.0.0.1:1\"\nhealth_check = { path = \"healthz\" }",
                #"/srv/gw.conf:4: upstream[0].health_check.path: invalid path "healthz" (allowed: an absolute path such as "/healthz")"#
            ),
            (
                "url = \"http://127.0.0.1:1\"\nhealth_check = { interval = \"1s\", timeout = \"2s\" }",
                "/srv/gw.conf:4: upstream[0].health_check.timeout: longer than the interval (1s)"
            ),
            (
                "url = \"http://127.0.0.1:1\"\nhealth_check = { unhealthy_after = 0 }",
                "/srv/gw.conf:4: upstream[0].health_check.unhealthy_after: 0 is out of range (allowed: 1..100)"
            ),
            (
                "url = \"http://127.0.0.1:1\"\nhealth_check = { method = \"HEAD\" }",
                "/srv/gw.conf:4: upstream[0].health_check.method: unknown key (allowed: path, interval, timeout, unhealthy_after, healthy_after)"
            ),
        ] as [(String, String)])
    func refusesTargets(lines: String, message: String) {
        #expect(ConfigFixture.problems("[[upstream]]\nname = \"users\"\n\(lines)") == [message])
    }
}

@Suite("Config [log]")
struct LogConfigTests {
    @Test("defaults to text at info with the access log on")
    func defaults() throws {
        #expect(try ConfigFixture.config("").log == LogConfig(format: .text, level: .info, access: true))
    }

    @Test("takes a format, a level and the access switch")
    func explicit() throws {
        let config = try ConfigFixture.config("[log]\nformat = \"json\"\nlevel = \"warning\"\naccess = false")
        #expect(config.log == LogConfig(format: .json, level: .warning, access: false))
    }

    @Test("names the formats allowed")
    func badFormat() {
        #expect(
            ConfigFixture.problems("[log]\nformat = \"xml\"") == [
                #"/srv/gw.conf:2: log.format: unsupported value "xml" (allowed: text, json, logfmt)"#
            ])
    }
}
