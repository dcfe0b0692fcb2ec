import Foundation
import NIOSSL
import Testing

/// The real binary's resident memory after many connections have come and gone: what a closed
/// connection took must be freed and given back, whatever the connection did.
@Suite("Memory kept per closed connection", .timeLimit(.minutes(15)))
struct ConnectionMemoryTests {
    @Test("20,000 closed TLS connections of every kind add less than 4 MiB of resident memory")
    func closedConnectionsGiveMemoryBack() async throws {
        try await TestUpstream.with { upstream in
            let directory = try Fixtures.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let config = try writeConfig(
                in: directory, upstreamPort: upstream.port,
                routes: """
                    [[route]]
                    path = "/echo"
                    upstream = "test"
                    auth = "none"

                    [[route]]
                    path = "/api"
                    upstream = "test"
                    """,
                extra: "[log]\nlevel = \"debug\"\naccess = false")
            let gateway = try await GatewayProcess.start(configPath: config)
            let churn = try Churn(port: gateway.port)

            var failures = try await churn.mix(2_000)
            let warm = try await gateway.residentBytesOnceTrimmed(closedConnections: 2_000)
            failures += try await churn.mix(20_000)
            let after = try await gateway.residentBytesOnceTrimmed(closedConnections: 22_000)

            let added = after - warm
            #expect(
                added < 4 << 20,
                "resident memory grew by \(added / 1024) KiB over 20,000 connections (\(warm / 1024) → \(after / 1024) KiB)")
            #expect(failures == 0, "\(failures) connections could not be made")
            _ = await gateway.terminate()
        }
    }
}

/// The connections of one run: half close right after connecting (half of those before the TLS
/// handshake), half after one request: most forwarded, some refused at authentication, some malformed.
private struct Churn {
    let port: Int
    let tls: NIOSSLContext

    init(port: Int) throws {
        self.port = port
        tls = try ConnectionChurn.clientContext()
    }

    /// Makes `count` connections; returns how many could not connect.
    func mix(_ count: Int) async throws -> Int {
        let forwarded = RawTLSClient.request(["GET /echo HTTP/1.1", "Host: localhost", "Connection: close"])
        let refused = RawTLSClient.request(["GET /api HTTP/1.1", "Host: localhost", "Authorization: Bearer x.y.z", "Connection: close"])
        let malformed = RawTLSClient.request([
            "GET /echo HTTP/1.1", "Host: localhost", "Content-Length: 1", "Transfer-Encoding: chunked",
        ])
        let shapes: [(ConnectionChurn.Shape, Int)] = [
            (.connectOnly, 5), (.handshakeOnly, 5), (.request(forwarded), 6), (.request(refused), 2), (.request(malformed), 2),
        ]
        var failures = 0
        for (shape, twentieths) in shapes {
            failures += try await ConnectionChurn.run(shape, count: count * twentieths / 20, port: port, tls: tls)
        }
        return failures
    }
}

extension GatewayProcess {
    /// The resident size once the gateway has given back the memory of at least `closedConnections`
    /// closed connections (its debug line after a trim says how many it had closed by then).
    func residentBytesOnceTrimmed(closedConnections: Int) async throws -> Int {
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            let trimmed = log.split(separator: "\n").filter { $0.contains("freed memory returned") }.compactMap { line in
                line.split(separator: "gateway.closed_connections=").last.flatMap { Int($0.prefix { $0.isNumber }) }
            }
            if let last = trimmed.last, last >= closedConnections { return residentBytes }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw GatewayProcessError(log: "no trim after \(closedConnections) closed connections:\n" + log)
    }
}
