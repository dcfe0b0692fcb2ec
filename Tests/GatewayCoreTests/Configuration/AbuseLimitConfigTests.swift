import Testing

@testable import GatewayCore

/// The keys that bound what slow and greedy clients can hold: their defaults, values and refusals.
@Suite("Config: body timeouts, held-body budget, upstream slots, request buffering")
struct AbuseLimitConfigTests {
    @Test("defaults: 60s for a whole body, 1 KiB/s at least, 128 MiB held at once, 512 requests per upstream waiting 1s")
    func defaults() throws {
        let config = try ConfigFixture.config("")
        #expect(config.server.requestBodyTimeout == .seconds(60))
        #expect(config.server.requestBodyMinRate == 1024)
        #expect(config.server.heldBodyBudget == 128 << 20)
        #expect(config.upstreams[0].maxConnections == 512)
        #expect(config.upstreams[0].queueTimeout == .seconds(1))
        #expect(config.routes[0].requestBuffering == false)
    }

    @Test("reads each key")
    func values() throws {
        let config = try ConfigFixture.config(
            """
            [server]
            request_body_timeout = "15s"
            request_body_min_rate = "0B"
            held_body_budget = "64MiB"

            [[upstream]]
            name = "users"
            url = "http://127.0.0.1:8081"
            max_connections = 8
            queue_timeout = "250ms"

            [[route]]
            path = "/upload"
            upstream = "users"
            request_buffering = true
            max_body = "64KiB"
            """)
        #expect(config.server.requestBodyTimeout == .seconds(15))
        #expect(config.server.requestBodyMinRate == 0)
        #expect(config.server.heldBodyBudget == 64 << 20)
        #expect(config.upstreams[0].maxConnections == 8)
        #expect(config.upstreams[0].queueTimeout == .milliseconds(250))
        #expect(config.routes[0].requestBuffering)
        let route = Route(index: 0, config: config.routes[0])
        #expect(route.heldBodyLimit == 64 << 10)
    }

    @Test("a buffering route holds at most 1 MiB, whatever the server's body limit")
    func bufferingCapsTheBody() throws {
        let config = try ConfigFixture.config(
            "[server]\nmax_body_bytes = \"100MiB\"\n\n[[route]]\npath = \"/up\"\nupstream = \"users\"\nrequest_buffering = true")
        let route = Route(index: 0, config: config.routes[0], serverMaxBodyBytes: config.server.maxBodyBytes)
        #expect(route.heldBodyLimit == 1 << 20)
        #expect(route.validation.maxBodyBytes == 1 << 20)
    }

    @Test("refuses values out of range, naming the file, line and key")
    func refusals() {
        #expect(
            ConfigFixture.problems("[server]\nheld_body_budget = \"512KiB\"").first?.hasPrefix(
                "/srv/gw.conf:2: server.held_body_budget:") == true)
        #expect(
            ConfigFixture.problems("[[upstream]]\nname = \"users\"\nurl = \"http://127.0.0.1:8081\"\nmax_connections = 0").first?
                .hasPrefix("/srv/gw.conf:4: upstream[0].max_connections:") == true)
        #expect(
            ConfigFixture.problems("[[upstream]]\nname = \"users\"\nurl = \"http://127.0.0.1:8081\"\nqueue_timeout = \"2m\"").first?
                .hasPrefix("/srv/gw.conf:4: upstream[0].queue_timeout:") == true)
        #expect(
            ConfigFixture.problems("[[route]]\npath = \"/up\"\nupstream = \"users\"\nrequest_buffering = true\nmax_body = \"2MiB\"")
                == ["/srv/gw.conf:5: route[0].max_body: a route with request_buffering holds its body in memory (allowed: up to 1MiB)"])
    }
}
