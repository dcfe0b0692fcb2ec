import AsyncHTTPClient
import Foundation
import GatewayCore
import NIOCore
import NIOHTTP1
import NIOPosix
import Testing

/// The real binary with two upstream targets, the admin listener and JSON logs: round-robin and
/// health checks, `/readyz`, `/metrics`, and one access line per request.
@Suite("Health, metrics and logs of the real binary", .timeLimit(.minutes(3)))
struct ObservabilityTests {
    static let routes = """
        [[route]]
        path = "/private"
        upstream = "test"

        [[route]]
        path = "/"
        upstream = "test"
        auth = "none"
        public = true
        """

    /// An upstream's `targets` on loopback `ports`, probed every 250 ms and taken out or back in
    /// after one probe.
    static func checkedTargets(_ ports: [Int]) -> String {
        """
        targets = [\(ports.map { "\"http://127.0.0.1:\($0)\"" }.joined(separator: ", "))]
        health_check = { interval = "250ms", timeout = "250ms", unhealthy_after = 1, healthy_after = 1 }
        """
    }

    /// A response's status, `X-Request-ID` and body.
    struct Answer {
        let status: Int
        let requestID: String?
        let body: String
    }

    static func get(_ url: String, client: HTTPClient, token: String? = nil) async throws -> Answer {
        var request = HTTPClientRequest(url: url)
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        let response = try await client.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        return Answer(
            status: Int(response.status.code), requestID: response.headers.first(name: "X-Request-ID"),
            body: String(buffer: body))
    }

    /// Polls `/readyz` until it answers `status`; returns its last body.
    static func readiness(_ admin: String, becomes status: Int, client: HTTPClient) async throws -> String {
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            let answer = try await get(admin + "/readyz", client: client)
            if answer.status == status { return answer.body }
            guard ContinuousClock.now < deadline else {
                Issue.record("/readyz stayed \(answer.status): \(answer.body)")
                return answer.body
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Polls `/metrics` until `series` has `value`; returns the last page.
    static func metrics(_ admin: String, until series: String, is value: Double, client: HTTPClient) async throws -> String {
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            let page = try await get(admin + "/metrics", client: client).body
            if sample(series, in: page) == value { return page }
            guard ContinuousClock.now < deadline else {
                Issue.record("\(series) never became \(value)")
                return page
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// The value of the sample `series` (name and labels, as exposed) in a Prometheus text page.
    static func sample(_ series: String, in page: String) -> Double? {
        page.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ").last!) }
    }

    /// Opens a TCP connection to the TLS port, sends plain text and waits for the gateway to close it.
    static func sendPlainText(port: Int) async throws {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port).get()
        try await channel.writeAndFlush(ByteBuffer(string: "GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
        try? await channel.closeFuture.get()
    }

    @Test("round-robin over healthy targets, /readyz and /metrics follow the health checks, JSON access lines")
    func targetsReadinessMetricsAndLogs() async throws {
        let first = try await TestUpstream.start()
        let second = try await TestUpstream.start()
        defer { Task { await first.stop() } }
        let (firstPort, secondPort) = (first.port, second.port)
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = try writeConfig(
            in: directory, upstreamPort: firstPort,
            upstream: Self.checkedTargets([firstPort, secondPort]),
            routes: Self.routes, extra: "[admin]\nlisten = \"127.0.0.1:0\"\n\n[log]\nformat = \"json\"")
        let gateway = try await GatewayProcess.start(configPath: config)
        let admin = "http://127.0.0.1:\(try await gateway.adminPort())"
        let base = "https://localhost:\(gateway.port)"
        let badToken = IntegrationTokens.hs256(["sub": "mallory", "iss": "userservice", "aud": "gateway"]) + "x"
        var lastRequestID: String?
        try await AuditShutdownTests.withClient { client in
            #expect(try await Self.readiness(admin, becomes: 200, client: client) == "ready\n")

            // Both targets take turns.
            for _ in 0..<20 {
                let answer = try await Self.get(base + "/echo", client: client)
                #expect(answer.status == 200)
                lastRequestID = answer.requestID
            }
            #expect(first.requestsSeen + second.requestsSeen == 20)
            #expect(abs(first.requestsSeen - second.requestsSeen) <= 2, "\(first.requestsSeen) / \(second.requestsSeen)")

            // One target down: still ready, and every request goes to the other.
            await second.stop()
            let secondSeen = second.requestsSeen
            let secondUp = #"gateway_upstream_target_up{upstream="test",target="127.0.0.1:\#(secondPort)"}"#
            _ = try await Self.metrics(admin, until: secondUp, is: 0, client: client)
            #expect(try await Self.readiness(admin, becomes: 200, client: client) == "ready\n")
            for _ in 0..<10 { #expect(try await Self.get(base + "/echo", client: client).status == 200) }
            #expect(second.requestsSeen == secondSeen)

            // Auth failures are counted and logged, never with the token.
            #expect(try await Self.get(base + "/private/echo", client: client).status == 401)
            #expect(try await Self.get(base + "/private/echo", client: client, token: badToken).status == 401)
            try await Self.sendPlainText(port: gateway.port)
            gateway.reload()
            let page = try await Self.metrics(admin, until: #"gateway_reloads_total{result="applied"}"#, is: 1, client: client)
            #expect(Self.sample(#"gateway_requests_total{route="/",status="200"}"#, in: page) == 30, "\(page)")
            #expect(Self.sample(#"gateway_requests_total{route="/private",status="401"}"#, in: page) == 2)
            #expect(Self.sample(#"gateway_request_duration_seconds_count{route="/"}"#, in: page) == 30)
            #expect(Self.sample(#"gateway_upstream_duration_seconds_count{upstream="test"}"#, in: page) == 30)
            #expect(Self.sample(#"gateway_auth_failures_total{reason="auth_missing"}"#, in: page) == 1)
            #expect(Self.sample(#"gateway_auth_failures_total{reason="auth_invalid"}"#, in: page) == 1)
            #expect((Self.sample(#"gateway_tls_handshakes_total{result="ok"}"#, in: page) ?? 0) >= 1)
            #expect((Self.sample(#"gateway_tls_handshakes_total{result="failed"}"#, in: page) ?? 0) >= 1)
            #expect((Self.sample("gateway_open_connections", in: page) ?? 0) >= 1)
            #expect(Self.sample("gateway_audit_queue_depth", in: page) != nil)
            #expect(Self.sample("gateway_audit_events_dropped_total", in: page) == 0)
            #expect(Self.sample(#"gateway_reloads_total{result="applied"}"#, in: page) == 1)
            #expect(Self.sample(#"gateway_upstream_target_up{upstream="test",target="127.0.0.1:\#(firstPort)"}"#, in: page) == 1)
            #expect(Self.sample(#"gateway_upstream_target_up{upstream="test",target="127.0.0.1:\#(secondPort)"}"#, in: page) == 0)

            // Every target down: not ready, naming why, and requests get 502.
            await first.stop()
            let reasons = try await Self.readiness(admin, becomes: 503, client: client)
            #expect(reasons.contains("upstream test: no healthy target: 127.0.0.1:\(firstPort) down (connect failed"), "\(reasons)")
            #expect(try await Self.get(base + "/echo", client: client).status == 502)
        }
        #expect(await gateway.terminate() == .success)

        // Every line of stdout is one JSON object; the access lines say what happened.
        let lines = gateway.log.split(separator: "\n")
        let objects = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(objects.count == lines.count, "\(lines.filter { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) == nil })")
        let access = objects.filter { $0["msg"] as? String == "request" }
        #expect(access.count >= 33)
        let last = try #require(access.first { $0["gateway.request_id"] as? String == lastRequestID })
        #expect(last["level"] as? String == "info")
        #expect(
            last["gateway.route"] as? String == "/" && last["gateway.status"] as? String == "200"
                && last["gateway.method"] as? String == "GET")
        #expect(last["gateway.path"] as? String == "/echo" && last["gateway.client"] as? String == "127.0.0.1")
        #expect(Int(last["gateway.bytes_out"] as? String ?? "") ?? 0 > 100 && last["gateway.bytes_in"] as? String == "0")
        #expect(Double(last["gateway.duration_ms"] as? String ?? "") != nil && Double(last["gateway.upstream_ms"] as? String ?? "") != nil)
        let security = objects.filter { $0["msg"] as? String == "security event" }
        #expect(security.contains { $0["gateway.event"] as? String == "auth_invalid" && $0["level"] as? String == "warning" })
        #expect(objects.contains { $0["msg"] as? String == "upstream target down" && $0["level"] as? String == "warning" })
        #expect(!gateway.log.contains(badToken) && !gateway.log.contains(String(badToken.split(separator: ".")[2])))
    }
}
