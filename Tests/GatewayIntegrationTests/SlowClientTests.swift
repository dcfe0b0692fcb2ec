import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// The real binary against clients that hold what they can: bodies trickled a byte at a time,
/// bodies held half-sent, more concurrent requests than an upstream should take.
@Suite("Slow and greedy clients cannot starve the others", .timeLimit(.minutes(3)))
struct SlowClientTests {
    static func withGateway<T>(
        extraServer: String = "", upstreamKeys: String = "", routes: String? = nil, extra: String = "",
        _ body: (GatewayProcess, TestUpstream) async throws -> T
    ) async throws -> T {
        try await TestUpstream.with { upstream in
            let directory = try Fixtures.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let config = try writeConfig(
                in: directory, upstreamPort: upstream.port, upstream: "url = \"http://127.0.0.1:\(upstream.port)\"\n" + upstreamKeys,
                extraServer: extraServer,
                routes: routes, extra: "[admin]\nlisten = \"127.0.0.1:0\"\n" + extra)
            let gateway = try await GatewayProcess.start(configPath: config)
            do {
                let result = try await body(gateway, upstream)
                _ = await gateway.terminate()
                return result
            } catch {
                _ = await gateway.terminate()
                throw error
            }
        }
    }

    /// One route for every path, without tokens, with the extra `key` line.
    static func openRoute(_ key: String) -> String {
        "[[route]]\npath = \"/\"\nupstream = \"test\"\nauth = \"none\"\n" + key
    }

    static func post(_ path: String, length: Int, contentType: String = "text/plain") -> [String] {
        ["POST \(path) HTTP/1.1", "Host: localhost", "Content-Type: \(contentType)", "Content-Length: \(length)", "Connection: close"]
    }

    @Test("a body trickled under request_body_min_rate is cut with 408 once the grace has passed; the upstream never gets it whole")
    func minimumRate() async throws {
        try await Self.withGateway { gateway, upstream in
            // 1 byte a second: 30 s for the body, far under the default 1 KiB/s.
            let outcome = try await TricklingClient.send(
                port: gateway.port, head: Self.post("/sink", length: 30), body: Array(repeating: UInt8(ascii: "x"), count: 30),
                pause: .seconds(1))
            #expect(outcome.status == 408, "\(outcome.answer)")
            #expect(outcome.answer.contains(#""code":"body_timeout""#))
            #expect(outcome.bodyBytesSent < 30)
            #expect(upstream.requestsCompleted == 0)
            #expect(gateway.log.contains("request body too slow"))
        }
    }

    @Test("request_body_timeout bounds the whole body even when it keeps the minimum rate")
    func wholeBodyTimeout() async throws {
        try await Self.withGateway(extraServer: "request_body_timeout = \"2s\"\nrequest_body_min_rate = \"0B\"") { gateway, upstream in
            let outcome = try await TricklingClient.send(
                port: gateway.port, head: Self.post("/sink", length: 60), body: Array(repeating: UInt8(ascii: "x"), count: 60),
                pause: .milliseconds(500))
            #expect(outcome.status == 408, "\(outcome.answer)")
            #expect(outcome.answer.contains("body_timeout"))
            #expect(outcome.bodyBytesSent < 60)
            #expect(upstream.requestsCompleted == 0)
        }
    }

    @Test("a request_buffering route sends nothing upstream until the body is whole")
    func requestBuffering() async throws {
        let routes = Self.openRoute("request_buffering = true")
        try await Self.withGateway(extraServer: "request_body_min_rate = \"0B\"", routes: routes) { gateway, upstream in
            let outcome = try await TricklingClient.send(
                port: gateway.port, head: Self.post("/sink", length: 8), body: Array("12345678".utf8), chunk: 2,
                pause: .milliseconds(400))
            #expect(outcome.status == 200, "\(outcome.answer)")
            #expect(outcome.answer.contains(#"{"received":8}"#))
            let finished = try #require(outcome.bodyFinished)
            let reachedUpstream = try #require(upstream.firstHeadTime)
            #expect(reachedUpstream > finished, "the upstream saw the head before the client had sent the whole body")
        }
    }

    @Test("an upstream's max_connections: no more requests reach it at once; the rest wait in line")
    func upstreamSlotsQueue() async throws {
        let upstream = "max_connections = 2\nqueue_timeout = \"30s\""
        try await Self.withGateway(upstreamKeys: upstream) { gateway, testUpstream in
            let port = gateway.port
            try await AuditShutdownTests.withClient { client in
                let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                    for _ in 0..<6 {
                        group.addTask {
                            try await ObservabilityTests.get("https://localhost:\(port)/slow?ms=300", client: client).status
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                #expect(statuses == Array(repeating: 200, count: 6))
                #expect(testUpstream.mostInFlight == 2)
            }
        }
    }

    @Test("a request finding every slot of its upstream taken past queue_timeout gets 503 upstream_busy with Retry-After")
    func upstreamBusy() async throws {
        try await Self.withGateway(upstreamKeys: "max_connections = 1\nqueue_timeout = \"200ms\"") { gateway, upstream in
            let port = gateway.port
            try await AuditShutdownTests.withClient { client in
                // The slot stays taken for 8 s; the request itself may take longer on a busy machine.
                async let held = client.execute(HTTPClientRequest(url: "https://localhost:\(port)/slow?ms=8000"), timeout: .seconds(60))
                while upstream.requestsSeen < 1 { try await Task.sleep(for: .milliseconds(20)) }
                let request = HTTPClientRequest(url: "https://localhost:\(gateway.port)/echo")
                let refused = try await client.execute(request, timeout: .seconds(30))
                let body = String(buffer: try await refused.body.collect(upTo: 1 << 16))
                #expect(refused.status == .serviceUnavailable)
                #expect(refused.headers.first(name: "Retry-After") == "1")
                #expect(body.contains(#""code":"upstream_busy""#))
                #expect(try await held.status == .ok)
                #expect(try await ObservabilityTests.get("https://localhost:\(gateway.port)/echo", client: client).status == 200)
                #expect(gateway.log.contains("upstream busy"))
            }
        }
    }

    @Test("held bodies beyond held_body_budget are refused with 503 and counted; the budget comes back when they go")
    func heldBodyBudget() async throws {
        let routes = Self.openRoute("json = true")
        let server = "held_body_budget = \"1MiB\"\nrequest_body_min_rate = \"0B\"\nrequest_body_timeout = \"5m\""
        try await Self.withGateway(extraServer: server, routes: routes) { gateway, upstream in
            let admin = "http://127.0.0.1:\(try await gateway.adminPort())"
            let port = gateway.port
            try await AuditShutdownTests.withClient { client in
                // The first client declares 900,000 bytes and stalls after its first ten.
                let stalled = Task {
                    try await TricklingClient.send(
                        port: port, head: Self.post("/echo", length: 900_000, contentType: "application/json"),
                        body: Array(repeating: UInt8(ascii: " "), count: 900_000), chunk: 10, pause: .seconds(3600))
                }
                try await Self.waitForSample("gateway_held_body_bytes", in: admin, client: client) { $0 >= 900_000 }
                let refused = try await RawTLSClient.exchange(
                    port: gateway.port, caPath: Fixtures.caCertificate,
                    bytes: RawTLSClient.request(Self.post("/echo", length: 200_000, contentType: "application/json")))
                #expect(refused.hasPrefix("HTTP/1.1 503"), "\(refused)")
                #expect(refused.contains("Retry-After: 1"))
                #expect(refused.contains(#""code":"gateway_busy""#))
                try await Self.waitForSample("gateway_held_body_refusals_total", in: admin, client: client) { $0 == 1 }
                stalled.cancel()
                _ = await stalled.result
                try await Self.waitForSample("gateway_held_body_bytes", in: admin, client: client) { $0 == 0 }
                var request = HTTPClientRequest(url: "https://localhost:\(gateway.port)/echo")
                request.method = .POST
                request.headers.add(name: "Content-Type", value: "application/json")
                request.body = .bytes(ByteBuffer(string: #"{"a":1}"#))
                #expect(try await client.execute(request, timeout: .seconds(30)).status == .ok)
                #expect(upstream.requestsCompleted == 1)
            }
        }
    }

    /// Polls the admin listener's `/metrics` until the sample `series` satisfies `condition`.
    static func waitForSample(
        _ series: String, in admin: String, client: HTTPClient, _ condition: (Double) -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            let page = try await ObservabilityTests.get(admin + "/metrics", client: client).body
            if let value = ObservabilityTests.sample(series, in: page), condition(value) { return }
            guard ContinuousClock.now < deadline else {
                let last = ObservabilityTests.sample(series, in: page).map { "\($0)" } ?? "absent"
                Issue.record("\(series) never met its condition; last \(last)")
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}
