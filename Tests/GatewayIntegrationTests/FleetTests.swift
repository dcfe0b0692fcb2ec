import AsyncHTTPClient
import Foundation
import GatewayCore
import NIOCore
import NIOHTTP1
import PostgresSupport
import PostgresTestSupport
import Testing

/// Two real gateway processes on one real PostgreSQL (over TLS, `verify-full`): limits,
/// revocations and the audit trail hold across both.
@Suite("Several gateways on one PostgreSQL", .timeLimit(.minutes(5)))
struct FleetTests {
    /// The GCRA over-admission bound of README "Running several gateways": over a window of `window`
    /// seconds, `nodes` gateways syncing every `interval` admit at most
    /// `limit + window / T + (nodes − 1) × (limit + ⌈(2 × interval + roundTrip) / T⌉)`, T = period / limit.
    static func admissionBound(limit: Int, period: Double, nodes: Int, interval: Double, roundTrip: Double, window: Double) -> Int {
        let emission = period / Double(limit)
        let single = Double(limit) + window / emission
        let unseen = Double(limit) + ((2 * interval + roundTrip) / emission).rounded(.up)
        return Int(single + Double(nodes - 1) * unseen)
    }

    static let routes = """
        [[route]]
        path = "/login"
        methods = ["POST"]
        upstream = "test"
        auth = "none"
        public = true
        login = true

        [[route]]
        path = "/"
        upstream = "test"
        auth = "required"
        rate_limit = [{ rate = "100/minute", key = "subject" }]

        [login_protection]
        max_failures_per_client = 10
        """

    /// Two gateways, `n1` and `n2`, on a fresh database; `body` gets them and the first one's config path.
    static func withFleet(_ body: ([GatewayProcess], [String]) async throws -> Void) async throws {
        let url = try await TestPostgres.makeDatabase(prefix: "fleet")
        let store = """
            url = "\(url)"
            password_file = "\(try TestPostgres.passwordFile())"
            """
        try await TestUpstream.with { upstream in
            let directory = try Fixtures.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            var gateways: [GatewayProcess] = []
            var configs: [String] = []
            for node in ["n1", "n2"] {
                let config = try writeConfig(
                    in: directory, upstreamPort: upstream.port, extraServer: "node_name = \"\(node)\"", routes: routes, store: store,
                    name: "\(node).conf")
                configs.append(config)
                gateways.append(try await GatewayProcess.start(configPath: config))
            }
            do {
                try await body(gateways, configs)
            } catch {
                for gateway in gateways { _ = await gateway.terminate() }
                throw error
            }
            for gateway in gateways { #expect(await gateway.terminate() == .success, "\(gateway.log)") }
        }
    }

    static func token(subject: String, id: String = UUID().uuidString) -> String {
        let now = Int(Date().timeIntervalSince1970)
        return IntegrationTokens.hs256([
            "sub": subject, "iss": "userservice", "aud": "gateway", "iat": now - 1, "exp": now + 600, "jti": id,
        ])
    }

    static func get(_ client: HTTPClient, _ gateway: GatewayProcess, token: String) async throws -> UInt {
        var request = HTTPClientRequest(url: "https://localhost:\(gateway.port)/echo")
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        let response = try await client.execute(request, timeout: .seconds(10))
        _ = try await response.body.collect(upTo: 1 << 20)
        return response.status.code
    }

    @Test("100/minute on one subject, 300 requests spread over two gateways: at least 100 and at most the documented bound admitted")
    func limitAcrossNodes() async throws {
        try await Self.withFleet { gateways, configs in
            let token = Self.token(subject: "fleet-user")
            let started = ContinuousClock.now
            let statuses = try await AuditShutdownTests.withClient { client in
                var statuses: [UInt] = []
                for index in 0..<300 { statuses.append(try await Self.get(client, gateways[index % 2], token: token)) }
                return statuses
            }
            let window = (ContinuousClock.now - started) / .seconds(1)
            let admitted = statuses.count { $0 == 200 }
            #expect(statuses.allSatisfy { $0 == 200 || $0 == 429 }, "\(Set(statuses))")
            let bound = Self.admissionBound(limit: 100, period: 60, nodes: 2, interval: 0.2, roundTrip: 0.1, window: window)
            print("fleet limit: 300 requests over 2 gateways in \(window) s; \(admitted) admitted, bound \(bound)")
            #expect(admitted >= 100)
            #expect(admitted <= bound)
            // Each node refused some: neither went on alone on its own counter.
            #expect(statuses.enumerated().contains { $0.offset % 2 == 0 && $0.element == 429 })
            #expect(statuses.enumerated().contains { $0.offset % 2 == 1 && $0.element == 429 })

            // Both nodes' refusals are in the one audit table, each chain intact.
            let query = try await runGateway(["audit", "query", "--config", configs[0], "--type", "rate_limited"])
            #expect(query.status == 0, "\(query.output)")
            #expect(query.output.contains("n1") && query.output.contains("n2"), "\(query.output)")
            let verify = try await runGateway(["audit", "verify", "--config", configs[1]])
            #expect(verify.status == 0, "\(verify.output)")

            // The store commands see both nodes; a PostgreSQL store is backed up with pg_dump.
            let status = try await runGateway(["store", "status", "--config", configs[1]])
            #expect(status.status == 0, "\(status.output)")
            #expect(status.output.contains("store:               postgresql postgres://"), "\(status.output)")
            #expect(status.output.contains("gateway n1:") && status.output.contains("gateway n2:"), "\(status.output)")
            let backup = try await runGateway(["store", "backup", "--config", configs[0], "/tmp/never-written.dump"])
            #expect(backup.status == 1)
            #expect(backup.output.contains("pg_dump --format=custom"), "\(backup.output)")
        }
    }

    /// One failed login (the test upstream answers 401 to every one) through `gateway`.
    static func login(_ client: HTTPClient, _ gateway: GatewayProcess) async throws -> UInt {
        var request = HTTPClientRequest(url: "https://localhost:\(gateway.port)/login")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: #"{"username":"someone","password":"guess"}"#))
        let response = try await client.execute(request, timeout: .seconds(10))
        _ = try await response.body.collect(upTo: 1 << 20)
        return response.status.code
    }

    @Test("a client that failed 10 logins on one node is locked on the other within sync_interval, before failing 10 there")
    func loginLockAcrossNodes() async throws {
        try await Self.withFleet { gateways, _ in
            try await AuditShutdownTests.withClient { client in
                for _ in 0..<10 { #expect(try await Self.login(client, gateways[0]) == 401) }
                #expect(try await Self.login(client, gateways[0]) == 429)
                let started = ContinuousClock.now
                // Each attempt n2 lets through is one more failure of its own: without the fleet's
                // failures it would answer 401 ten times before it locked.
                var failedHere = 0
                var status: UInt = 401
                while status == 401, failedHere < 10 {
                    status = try await Self.login(client, gateways[1])
                    if status == 401 { failedHere += 1 }
                    try await Task.sleep(for: .milliseconds(100))
                }
                print("fleet login lock: locked on the other node after \(ContinuousClock.now - started), \(failedHere) failures there")
                #expect(status == 429)
                #expect(failedHere < 10)
            }
        }
    }

    @Test("a token revoked through one node's config is refused by the other within sync_interval + 1 s")
    func revocationReachesOtherNode() async throws {
        try await Self.withFleet { gateways, configs in
            let id = "fleet-\(UUID().uuidString)"
            let token = Self.token(subject: "revoked-user", id: id)
            try await AuditShutdownTests.withClient { client in
                #expect(try await Self.get(client, gateways[1], token: token) == 200)
                let revoke = try await runGateway(["token", "revoke", "--config", configs[0], "--jti", id])
                #expect(revoke.status == 0, "\(revoke.output)")
                let revoked = ContinuousClock.now
                var status: UInt = 200
                while status == 200, ContinuousClock.now - revoked < .seconds(30) {
                    status = try await Self.get(client, gateways[1], token: token)
                }
                let elapsed = ContinuousClock.now - revoked
                print("fleet revocation: refused by the other node \(elapsed) after `gateway token revoke` returned")
                #expect(status == 401)
                // sync_interval (200 ms) + 1 s, plus what a busy 2-core machine adds to a request.
                #expect(elapsed < .milliseconds(1_200) + .seconds(2))
            }
        }
    }
}
