import GatewayCore
import Testing

@Suite("Config schema: unknown keys, types and required keys")
struct ConfigSchemaTests {
    @Test("rejects an unknown key with its line")
    func unknownKey() {
        let problems = ConfigFixture.problems(
            """
            [server]
            listen = "127.0.0.1:8443"
            lisen = "127.0.0.1:9443"
            """)
        #expect(
            problems == [
                "/srv/gw.conf:3: server.lisen: unknown key (allowed: listen, redirect_http_listen, acme_challenge_dir, trusted_proxies, max_header_bytes, max_body_bytes, idle_timeout, request_header_timeout, request_body_timeout, request_body_min_rate, max_connections, max_connections_per_client, held_body_budget, drain_timeout, http2, http2_max_concurrent_streams, node_name)"
            ])
    }

    @Test("rejects an unknown top-level table at its header")
    func unknownTable() {
        let problems = ConfigFixture.problems(
            """
            [metrics]
            listen = "127.0.0.1:9090"
            """)
        #expect(
            problems == [
                "/srv/gw.conf:1: metrics: unknown key (allowed: server, tls, jwt, upstream, route, store, login_protection, rate_limit, cors, admin, log)"
            ])
    }

    @Test("rejects a sub-table of a known table")
    func unknownSubTable() {
        let problems = ConfigFixture.problems(
            """
            [server]
            listen = "127.0.0.1:8443"

            [server.limits]
            """)
        #expect(problems.first?.hasPrefix("/srv/gw.conf:4: server.limits: unknown key (allowed: listen, ") == true)
    }

    @Test("rejects an unknown key in the right array-of-tables entry")
    func unknownKeyInEntry() {
        let problems = ConfigFixture.problems(
            """
            [[upstream]]
            name = "users"
            url = "http://127.0.0.1:8081"

            [[route]]
            path = "/users"
            upstream = "users"

            [[route]]
            path = "/admin"
            upstream = "users"
            timeout = "5s"
            """)
        #expect(
            problems == [
                "/srv/gw.conf:12: route[1].timeout: unknown key (allowed: path, methods, upstream, strip_prefix, auth, scopes, roles, issuers, login, public, rate_limit, cors, allow_clients, request_buffering, content_types, max_body, json, max_query_params, required_headers, schema)"
            ])
    }

    @Test("rejects a wrong type, naming the expected one")
    func wrongType() {
        let problems = ConfigFixture.problems(
            """
            [server]
            max_connections = "100"
            """)
        #expect(problems == [#"/srv/gw.conf:2: server.max_connections: expected an integer, found a string"#])
    }

    @Test("reports a missing required key at the header of its table")
    func missingKey() {
        let problems = ConfigFixture.problems(
            """
            [tls]
            certificate = "server.crt"
            """)
        #expect(problems == ["/srv/gw.conf:1: tls.private_key: missing required key"])
    }

    @Test("reports the required keys of an absent table without a line")
    func missingTable() {
        let problems = ConfigFixture.problems(inDocument: ConfigFixture.upstream + "\n" + ConfigFixture.route + "\n" + ConfigFixture.jwt)
        #expect(
            problems == [
                "/srv/gw.conf: tls.certificate: missing required key",
                "/srv/gw.conf: tls.private_key: missing required key",
            ])
    }

    @Test("reports a table given as another type once, not its keys as missing")
    func tableOfWrongType() {
        let problems = ConfigFixture.problems(
            inDocument: """
                tls = "server.crt"

                """ + ConfigFixture.upstream + "\n" + ConfigFixture.route + "\n" + ConfigFixture.jwt)
        #expect(problems == ["/srv/gw.conf:1: tls: expected a table, found a string"])
    }

    @Test("requires at least one upstream and one route")
    func requiresUpstreamAndRoute() {
        let problems = ConfigFixture.problems(inDocument: ConfigFixture.tls)
        #expect(
            problems == [
                "/srv/gw.conf: upstream: at least one [[upstream]] is required",
                "/srv/gw.conf: route: at least one [[route]] is required",
            ])
    }

    @Test("rejects a single [upstream] table where an array of tables is expected")
    func upstreamAsTable() {
        let problems = ConfigFixture.problems(
            inDocument: """
                [upstream]
                name = "users"
                url = "http://127.0.0.1:8081"

                """ + ConfigFixture.tls + "\n" + ConfigFixture.route + "\n" + ConfigFixture.jwt)
        #expect(
            problems == [
                "/srv/gw.conf:1: upstream: expected an array of tables ([[upstream]]), found a table",
                #"/srv/gw.conf:9: route[0].upstream: no upstream named "users""#,
            ])
    }

    @Test("finds the line of a key inside an inline table")
    func inlineTable() {
        let problems = ConfigFixture.problems(
            inDocument: """
                tls = { certificate = "server.crt", private_key = "server.key" }
                upstream = [
                  { name = "users", url = "http://127.0.0.1:8081" },
                  { name = "Admin", url = "http://127.0.0.1:8082" },
                ]
                route = [{ path = "/users", upstream = "users", auth = "maybe" }]
                jwt.algorithms = ["HS256"]
                """)
        #expect(
            problems == [
                #"/srv/gw.conf:4: upstream[1].name: invalid name "Admin" (allowed: lower-case letters, digits, "_" and "-")"#,
                #"/srv/gw.conf:6: route[0].auth: unsupported value "maybe" (allowed: required, optional, none)"#,
            ])
    }
}
