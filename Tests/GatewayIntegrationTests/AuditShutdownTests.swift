import AsyncHTTPClient
import Foundation
import GatewayCore
import NIOCore
import NIOSSL
import Testing

/// Graceful shutdown of the real binary drains the audit queue: every refusal a client saw is in
/// the store, and the chain is intact.
@Suite("Audit at shutdown", .timeLimit(.minutes(3)))
struct AuditShutdownTests {
    static let routes = """
        [[route]]
        path = "/users"
        upstream = "test"
        auth = "required"
        """
    static let connections = 6
    /// Refusals received before SIGTERM, so that it lands mid-load with events queued.
    static let refusalsBeforeSignal = 1_000

    @Test("SIGTERM under load loses no event")
    func sigtermUnderLoad() async throws {
        try await TestUpstream.with { upstream in
            let directory = try Fixtures.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let config = try writeConfig(in: directory, upstreamPort: upstream.port, routes: Self.routes)
            let gateway = try await GatewayProcess.start(configPath: config)
            let load = RefusedRequestLoad(url: "https://localhost:\(gateway.port)/users/me", connections: Self.connections)
            let exit = try await Self.withClient { client in
                try await withThrowingDiscardingTaskGroup { group in
                    group.addTask { await load.run(client) }
                    defer { load.stop() }
                    do {
                        try await load.waitForRefusals(Self.refusalsBeforeSignal, timeout: .seconds(60))
                    } catch {
                        _ = await gateway.terminate()
                        throw error
                    }
                    return await gateway.terminate()
                }
            }
            #expect(exit == .success, "\(gateway.log)")

            let stored = try await SQLiteStore(path: directory.appendingPathComponent("gateway.sqlite").path)
                .auditStats(since: .distantPast)
            let refused = load.refused
            let audited = stored.countsByType[.authMissing] ?? 0
            #expect(audited >= refused, "\(refused) refusals received, \(audited) audited\n\(gateway.log)")
            #expect(stored.total == audited)

            let verify = try await runGateway(["audit", "verify", "--config", config])
            #expect(verify.status == 0, "\(verify.output)")
            #expect(verify.output == "audit chain intact: \(stored.total) events\n")
        }
    }

    /// Runs `body` with a client that trusts the test CA (HTTP/1.1 unless `httpVersion` says
    /// otherwise), and always shuts the client down. Against a gateway with a short `idle_timeout`,
    /// give `poolIdleTimeout` well under it, so that the client never reuses a connection the
    /// gateway is closing.
    static func withClient<T>(
        httpVersion: HTTPClient.Configuration.HTTPVersion = .http1Only, poolIdleTimeout: TimeAmount? = nil,
        trustRoots: NIOSSLTrustRoots? = nil, _ body: (HTTPClient) async throws -> T
    ) async throws -> T {
        var configuration = GatewayHarness.clientConfiguration()
        configuration.httpVersion = httpVersion
        if let trustRoots { configuration.tlsConfiguration?.trustRoots = trustRoots }
        if let poolIdleTimeout { configuration.connectionPool.idleTimeout = poolIdleTimeout }
        // Once the gateway has exited a request should fail at once, not retry until the connect timeout.
        configuration.connectionPool.retryConnectionEstablishment = false
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            let result = try await body(client)
            try await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }
}
