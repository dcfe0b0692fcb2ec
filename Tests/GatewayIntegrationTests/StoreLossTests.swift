import AsyncHTTPClient
import Foundation
import GatewayCore
import Logging
import NIOCore
import NIOHTTP1
import PostgresSupport
import PostgresTestSupport
import Synchronization
import Testing

/// The real PostgreSQL server stopped in the middle of a load run and started again: the gateway
/// keeps serving, limits stay enforced on its own counters, `/readyz` and the metrics say so, and
/// every audit event the queue held is written once the database is back, its chain intact.
///
/// Stopping the shared test server would break other suites running at the same time, so
/// `scripts/test` runs this suite in a pass of its own.
@Suite("PostgreSQL lost and back under load", .timeLimit(.minutes(5)))
struct StoreLossTests {
    static let routes = """
        [[route]]
        path = "/load"
        upstream = "test"
        auth = "required"

        [[route]]
        path = "/limited"
        upstream = "test"
        auth = "required"
        rate_limit = [{ rate = "5/hour", key = "subject" }]
        """

    /// Statuses of a sequential load: a request with a token (200) and one without (401, audited), in turn.
    final class LoadRun: Sendable {
        private let statuses = Mutex<[UInt]>([])
        private let stopped = Atomic<Bool>(false)

        func run(_ client: HTTPClient, port: Int, token: String) async {
            var index = 0
            while !stopped.load(ordering: .relaxed) {
                var request = HTTPClientRequest(url: "https://localhost:\(port)/load/echo")
                if index % 2 == 0 { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
                index += 1
                let status: UInt
                do {
                    let response = try await client.execute(request, timeout: .seconds(30))
                    _ = try await response.body.collect(upTo: 1 << 20)
                    status = response.status.code
                } catch {
                    status = 0  // no answer at all
                }
                statuses.withLock { $0.append(status) }
            }
        }

        func stop() { stopped.store(true, ordering: .relaxed) }
        var results: [UInt] { statuses.withLock { $0 } }
    }

    /// A progress line, for reading a run back.
    static func note(_ line: String) { print(line) }

    /// Polls `url` until it answers `status`.
    static func waitFor(_ status: UInt, at url: String, _ client: HTTPClient, within limit: Duration = .seconds(90)) async throws {
        let deadline = ContinuousClock.now + limit
        while true {
            let response = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(30))
            _ = try await response.body.collect(upTo: 1 << 20)
            if response.status.code == status { return }
            guard ContinuousClock.now < deadline else {
                Issue.record("\(url) never answered \(status)")
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// `/metrics` of the admin listener.
    static func metrics(_ admin: String, _ client: HTTPClient) async throws -> String {
        let response = try await client.execute(HTTPClientRequest(url: admin + "/metrics"), timeout: .seconds(30))
        return String(buffer: try await response.body.collect(upTo: 1 << 22))
    }

    /// The status of one GET of `path` through the gateway on `port`, with a token of `subject`.
    static func status(_ client: HTTPClient, port: Int, path: String, subject: String) async throws -> (UInt, String) {
        var request = HTTPClientRequest(url: "https://localhost:\(port)\(path)")
        request.headers.add(name: "Authorization", value: "Bearer \(FleetTests.token(subject: subject))")
        let response = try await client.execute(request, timeout: .seconds(30))
        return (response.status.code, String(buffer: try await response.body.collect(upTo: 1 << 20)))
    }

    /// Asks `/limited` of the gateway on `port` with a fresh subject each time (so no quota runs
    /// out) until it answers `expected`; returns the body.
    static func waitForLimited(_ expected: UInt, port: Int, _ client: HTTPClient) async throws -> String {
        let deadline = ContinuousClock.now + .seconds(90)
        while true {
            let (status, body) = try await Self.status(client, port: port, path: "/limited/echo", subject: UUID().uuidString)
            if status == expected { return body }
            guard ContinuousClock.now < deadline else {
                Issue.record("/limited never answered \(expected), last \(status)")
                return body
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    @Test("stop PostgreSQL mid-load and start it again: no 5xx, limits held locally, /readyz and metrics report it, no audit event lost")
    func stopAndStart() async throws {
        let url = try await TestPostgres.makeDatabase(prefix: "loss")
        let store = """
            url = "\(url)"
            password_file = "\(try TestPostgres.passwordFile())"
            connect_timeout = "1s"
            statement_timeout = "1s"
            """
        try await TestUpstream.with { upstream in
            let directory = try Fixtures.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let config = try writeConfig(
                in: directory, upstreamPort: upstream.port, extraServer: "node_name = \"loss\"", routes: Self.routes,
                extra: "[admin]\nlisten = \"127.0.0.1:0\"", store: store)
            let gateway = try await GatewayProcess.start(configPath: config)
            // A second gateway on the same database whose limited routes must not run unlimited.
            let closedConfig = try writeConfig(
                in: directory, upstreamPort: upstream.port, extraServer: "node_name = \"closed\"", routes: Self.routes,
                store: store + "\non_store_loss = \"fail_closed\"", name: "closed.conf")
            let closed = try await GatewayProcess.start(configPath: closedConfig)
            let admin = "http://127.0.0.1:\(try await gateway.adminPort())"
            let token = FleetTests.token(subject: "load-user")
            let load = LoadRun()
            try await AuditShutdownTests.withClient { client in
                try await Self.waitFor(200, at: admin + "/readyz", client)
                let port = gateway.port
                let runner = Task { await load.run(client, port: port, token: token) }
                defer { load.stop() }
                while load.results.count < 50 { try await Task.sleep(for: .milliseconds(20)) }

                Self.note("store loss: stopping PostgreSQL after \(load.results.count) requests")
                try TestPostgres.control("stop")
                var limited: [UInt] = []
                do {
                    try await Self.waitFor(503, at: admin + "/readyz", client)
                    Self.note("store loss: /readyz 503")
                    // The limiter goes on alone: 5 of 8 admitted, as with the store.
                    let outage = FleetTests.token(subject: "outage-user")
                    for _ in 0..<8 {
                        var request = HTTPClientRequest(url: "https://localhost:\(gateway.port)/limited/echo")
                        request.headers.add(name: "Authorization", value: "Bearer \(outage)")
                        let response = try await client.execute(request, timeout: .seconds(30))
                        _ = try await response.body.collect(upTo: 1 << 20)
                        limited.append(response.status.code)
                    }
                    let deadline = ContinuousClock.now + .seconds(60)
                    while try await !Self.metrics(admin, client).contains("gateway_store_up 0"), ContinuousClock.now < deadline {
                        try await Task.sleep(for: .milliseconds(100))
                    }
                    #expect(try await Self.metrics(admin, client).contains("gateway_store_up 0"))
                    Self.note("store loss: limited \(limited), store_up 0 seen")

                    // fail_closed: its limited route refuses with 503 store_unavailable, the rest serves.
                    let refusal = try await Self.waitForLimited(503, port: closed.port, client)
                    #expect(refusal.contains("store_unavailable"), "\(refusal)")
                    let (unlimited, _) = try await Self.status(client, port: closed.port, path: "/load/echo", subject: "any")
                    #expect(unlimited == 200)
                    let during = load.results.count
                    while load.results.count < during + 50 { try await Task.sleep(for: .milliseconds(20)) }
                } catch {
                    try TestPostgres.control("start")
                    throw error
                }
                Self.note("store loss: starting PostgreSQL again after \(load.results.count) requests")
                try TestPostgres.control("start")
                try await Self.waitFor(200, at: admin + "/readyz", client)
                Self.note("store loss: ready again")
                _ = try await Self.waitForLimited(200, port: closed.port, client)
                let after = load.results.count
                while load.results.count < after + 50 { try await Task.sleep(for: .milliseconds(20)) }
                load.stop()
                await runner.value
                Self.note("store loss: load stopped")

                let statuses = load.results
                let refusals = statuses.count { $0 == 401 }
                print(
                    "store loss: \(statuses.count) load requests, \(statuses.count { $0 == 200 }) answered 200, \(refusals) 401, "
                        + "\(statuses.count { $0 >= 500 || $0 == 0 }) 5xx or unanswered; limited route during the outage: \(limited)")
                #expect(statuses.allSatisfy { $0 == 200 || $0 == 401 }, "\(Set(statuses))")
                #expect(limited == [200, 200, 200, 200, 200, 429, 429, 429])
                #expect(try await Self.metrics(admin, client).contains("gateway_store_up 1"))

                // Every 401 is audited once the queue has drained into the database again.
                let stored = try await PostgresStore.open(
                    PostgresStoreConfig(url: url, passwordFile: try TestPostgres.passwordFile()), nodeName: "checker",
                    logger: Logger(label: "test"))
                var missing: [StoredAuditEvent] = []
                let deadline = ContinuousClock.now + .seconds(60)
                repeat {
                    missing = try await stored.auditEvents(AuditQuery(type: .authMissing, limit: 1_000_000))
                    if missing.count >= refusals { break }
                    try await Task.sleep(for: .milliseconds(200))
                } while ContinuousClock.now < deadline
                #expect(missing.count == refusals)
                #expect(Set(missing.map(\.node)) == ["loss"])
                let all = try await stored.auditEvents(AuditQuery(limit: 1_000_000))
                #expect(try await stored.verifyAuditChain() == .intact(events: all.count))
                await stored.close()
            }
            #expect(await gateway.terminate() == .success, "\(gateway.log)")
            #expect(await closed.terminate() == .success, "\(closed.log)")
        }
    }
}
