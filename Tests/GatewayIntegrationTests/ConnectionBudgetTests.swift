import Foundation
import GatewayCore
import NIOCore
import NIOPosix
import Testing

/// Caps that keep one client, or a low descriptor limit, from starving the others.
@Suite("Connection budget")
struct ConnectionBudgetTests {
    static func request() -> [UInt8] {
        RawTLSClient.request(["GET /echo HTTP/1.1", "Host: localhost", "Connection: close"])
    }

    @Test("a client's connections beyond max_connections_per_client are closed on accept, and one frees a slot")
    func perClient() async throws {
        try await TestUpstream.with { upstream in
            var config = GatewayHarness.config(
                upstreams: ["test": upstream.port], routes: [RouteConfig(path: "/", upstream: "test", auth: .none)])
            config.server.maxConnectionsPerClient = 3
            // The holders send nothing: on a busy machine the default head timeout could close them first.
            config.server.requestHeaderTimeout = .seconds(600)
            try await GatewayHarness.with(config) { gateway in
                var holders: [any Channel] = []
                for _ in 0..<3 {
                    holders.append(
                        try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(
                            host: "127.0.0.1", port: gateway.port
                        )
                        .get())
                }
                try await waitUntil { gateway.server.openConnections == 3 }
                let refused = try await RawTLSClient.exchange(port: gateway.port, caPath: Fixtures.caCertificate, bytes: Self.request())
                #expect(refused.isEmpty, "the fourth connection from 127.0.0.1 is closed")
                let page = String(decoding: gateway.server.metrics.exposition(gateway.server.metricsReadings), as: UTF8.self)
                #expect(page.contains(#"gateway_connections_refused_total{reason="max_connections_per_client"} 1"#), "\(page)")

                try await holders.removeLast().close()
                try await waitUntil { gateway.server.openConnections == 2 }
                let accepted = try await RawTLSClient.exchange(port: gateway.port, caPath: Fixtures.caCertificate, bytes: Self.request())
                #expect(accepted.hasPrefix("HTTP/1.1 200"))
                for holder in holders { try await holder.close() }
            }
        }
    }

    @Test("under a descriptor limit below the need, the binary warns and lowers max_connections")
    func loweredUnderLimit() async throws {
        try await TestUpstream.with { upstream in
            let directory = try Fixtures.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let config = try writeConfig(in: directory, upstreamPort: upstream.port, extraServer: "max_connections = 5000")
            let gateway = try await GatewayProcess.start(configPath: config, launcher: ["/usr/bin/prlimit", "--nofile=1024:1024"])
            let line = gateway.log.split(separator: "\n").first { $0.contains("max_connections lowered to fit the file descriptor limit") }
            #expect(line?.contains("gateway.descriptor_limit=1024") == true, "\(gateway.log)")
            let inForce = line?.firstMatch(of: /max_connections_in_force=([0-9]+)/).flatMap { Int($0.1) }
            #expect((inForce ?? .max) < 500, "\(line ?? "")")
            let answer = try await RawTLSClient.exchange(port: gateway.port, caPath: Fixtures.caCertificate, bytes: Self.request())
            #expect(answer.hasPrefix("HTTP/1.1 200"))
            #expect(await gateway.terminate() == .success)
        }
    }
}
