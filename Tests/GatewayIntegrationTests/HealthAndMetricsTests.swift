import AsyncHTTPClient
import Foundation
import GRDB
import GatewayCore
import GatewayTestSupport
import Logging
import NIOCore
import NIOHTTP1
import Testing

/// The health checker, `/readyz` and the policy metrics, in process.
@Suite("Upstream health checks, readiness and policy metrics", .timeLimit(.minutes(2)))
struct HealthAndMetricsTests {
    /// Probes every 100 ms. The timeout is longer than the config allows, so that a loaded CI machine
    /// cannot fail a probe of a live target: the targets here answer or refuse at once.
    static let quickChecks = HealthCheckConfig(
        interval: .milliseconds(100), timeout: .seconds(5), unhealthyAfter: 2, healthyAfter: 1)

    /// Runs `health` in the background while `body` runs.
    static func running<T>(_ health: UpstreamHealth, _ body: () async throws -> T) async throws -> T {
        let task = Task { try await health.run() }
        defer { task.cancel() }
        return try await body()
    }

    static func waitUntil(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while !condition() {
            guard ContinuousClock.now < deadline else { return }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    @Test("probes GET path: a live target is up, a refusing one down with the reason")
    func probes() async throws {
        try await TestUpstream.with { upstream in
            let refusing = try RefusingPort()
            var checks = Self.quickChecks
            checks.path = "/echo"
            let config = UpstreamConfig(
                name: "users",
                targets: [HostPort(host: "127.0.0.1", port: upstream.port), HostPort(host: "127.0.0.1", port: refusing.port)],
                healthCheck: checks)
            let health = UpstreamHealth(upstreams: [config], logger: Logger(label: "test"))
            try await Self.running(health) {
                let targets = health.targets(of: "users")
                try await Self.waitUntil { targets[0].current == .up && targets[1].current == .down }
                #expect(targets[0].current == .up && targets[1].current == .down)
                #expect(targets[1].failure?.hasPrefix("GET /echo failed") == true, "\(targets[1].failure ?? "")")
                #expect(upstream.requestsSeen >= 1, "the probe is an HTTP GET")
                #expect(health.problems().isEmpty, "one healthy target is enough")
            }
        }
    }

    @Test("unhealthy_after failures in a row take a target out; /readyz then names it")
    func threshold() async throws {
        let upstream = try await TestUpstream.start()
        let config = UpstreamConfig(
            name: "users", targets: [HostPort(host: "127.0.0.1", port: upstream.port)], healthCheck: Self.quickChecks)
        let health = UpstreamHealth(upstreams: [config], logger: Logger(label: "test"))
        let store = try ControlledStore()
        let readiness = Readiness(store: store, health: health, remoteKeys: [])
        #expect(await readiness.problems() == ["upstream users: no healthy target: 127.0.0.1:\(upstream.port) not probed yet"])
        try await Self.running(health) {
            let target = health.targets(of: "users")[0]
            try await Self.waitUntil { target.current == .up }
            #expect(await readiness.problems().isEmpty)
            await upstream.stop()
            try await Self.waitUntil { target.current == .down }
            #expect(target.current == .down)
            let problems = await readiness.problems()
            #expect(
                problems.count == 1
                    && problems[0].hasPrefix("upstream users: no healthy target: 127.0.0.1:\(upstream.port) down (connect failed"))
        }
    }

    @Test("/readyz fails while the store refuses writes")
    func storeNotWritable() async throws {
        let health = UpstreamHealth(upstreams: [], logger: Logger(label: "test"))
        let store = try ControlledStore()
        let readiness = Readiness(store: store, health: health, remoteKeys: [])
        #expect(await readiness.problems().isEmpty)
        store.refuseWrites(true)
        #expect(await readiness.problems().first?.hasPrefix("store: not writable") == true)
    }

    @Test("/readyz answers by its deadline while another process holds the store's write lock")
    func storeStalled() async throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("gateway.sqlite").path
        let store = try SQLiteStore(path: path)
        let health = UpstreamHealth(upstreams: [], logger: Logger(label: "test"))
        let readiness = Readiness(store: store, health: health, remoteKeys: [], storeDeadline: .milliseconds(300))
        // A cold store on a busy machine may miss a 300 ms deadline once: wait until it is ready.
        let deadline = ContinuousClock.now + .seconds(30)
        var ready = await readiness.problems().isEmpty
        while !ready, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
            ready = await readiness.problems().isEmpty
        }
        #expect(ready)
        // Another connection (as `gateway token revoke` would be) takes the write lock and keeps it.
        let other = try DatabaseQueue(path: path)
        let locked = AsyncStream.makeStream(of: Void.self)
        let release = DispatchSemaphore(value: 0)
        let holder = Task {
            try await other.writeWithoutTransaction { db in
                try db.execute(sql: "BEGIN EXCLUSIVE")
                locked.continuation.yield()
                release.wait()  // on GRDB's writer queue of that connection, not a shared thread
                try db.execute(sql: "COMMIT")
            }
        }
        for await _ in locked.stream { break }
        let problems = await readiness.problems()
        release.signal()
        try await holder.value
        // Its own deadline, not SQLite's 5 s busy timeout (which would say "database is locked").
        #expect(problems == ["store: no answer to a test write within 0.3 seconds"])
    }

    @Test("while a test write is stalled, further /readyz checks wait for it instead of queueing more")
    func oneTestWriteAtATime() async throws {
        let store = try ControlledStore()
        let health = UpstreamHealth(upstreams: [], logger: Logger(label: "test"))
        let readiness = Readiness(store: store, health: health, remoteKeys: [], storeDeadline: .milliseconds(100))
        store.holdWriteChecks(true)
        for _ in 0..<3 {
            #expect(await readiness.problems() == ["store: no answer to a test write within 0.1 seconds"])
        }
        #expect(store.writeChecksStarted == 1)
        store.holdWriteChecks(false)
        // A busy machine may miss the 0.1 s deadline now and then: one clean check is what counts.
        let deadline = ContinuousClock.now + .seconds(60)
        var ready = false
        while !ready, ContinuousClock.now < deadline {
            ready = await readiness.problems().isEmpty
            if !ready { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(ready)
        _ = await readiness.problems()
        #expect(store.writeChecksStarted >= 2, "a finished write makes room for the next")
    }

    @Test("rate limit decisions and CORS refusals are counted")
    func policyMetrics() async throws {
        try await TestUpstream.with { upstream in
            var open = RouteConfig(
                path: "/", upstream: "test", auth: .none, rateLimit: [RatePolicyConfig(limit: 2, period: .minute, key: .ip)])
            open.cors = CORSConfig(allowedOrigins: [OriginPattern("https://app.example")!], enforce: true)
            let config = GatewayHarness.config(upstreams: ["test": upstream.port], routes: [open])
            try await GatewayHarness.with(config, now: { Date(timeIntervalSince1970: 1_800_000_000) }) { gateway in
                let first = try await gateway.send("/echo")
                let foreign = try await gateway.send("/echo", headers: ["Origin": "https://evil.example"])
                let second = try await gateway.send("/echo")
                let third = try await gateway.send("/echo")
                #expect([first.status, foreign.status, second.status, third.status] == [.ok, .forbidden, .ok, .tooManyRequests])
                let page = String(decoding: gateway.server.metrics.exposition(gateway.server.metricsReadings), as: UTF8.self)
                #expect(page.contains(#"gateway_rate_limit_decisions_total{decision="allowed"} 2"#), "\(page)")
                #expect(page.contains(#"gateway_rate_limit_decisions_total{decision="refused"} 1"#))
                #expect(page.contains(#"gateway_cors_refusals_total{action="refused"} 1"#))
                #expect(page.contains(#"gateway_requests_total{route="/",status="429"} 1"#))
                #expect(page.contains(#"gateway_rate_limit_keys 1"#))
            }
        }
    }
}
