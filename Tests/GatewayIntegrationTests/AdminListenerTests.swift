import Foundation
import Testing

/// The admin listener of the real binary under abuse: it is capped, timed out and parses requests
/// as strictly as the TLS listener, so it can never take the gateway down.
@Suite("Admin listener limits")
struct AdminListenerTests {
    /// A gateway with an admin listener; `server` and `admin` are added to those tables.
    static func withGateway(
        server: String = "", admin: String = "", _ body: (GatewayProcess, _ adminPort: Int) async throws -> Void
    ) async throws {
        try await TestUpstream.with { upstream in
            let directory = try Fixtures.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let config = try writeConfig(
                in: directory, upstreamPort: upstream.port, extraServer: server, extra: "[admin]\nlisten = \"127.0.0.1:0\"\n\(admin)")
            let gateway = try await GatewayProcess.start(configPath: config)
            try await body(gateway, try await gateway.adminPort())
            #expect(await gateway.terminate() == .success)
        }
    }

    static func request(_ lines: [String]) -> [UInt8] { RawTLSClient.request(lines) }

    /// A TLS request through the gateway; its status line.
    static func proxied(_ gateway: GatewayProcess) async throws -> String {
        let answer = try await RawTLSClient.exchange(
            port: gateway.port, caPath: Fixtures.caCertificate,
            bytes: request(["GET /echo HTTP/1.1", "Host: localhost", "Connection: close"]))
        return answer.components(separatedBy: "\r\n")[0]
    }

    /// The value of one series in the admin listener's `/metrics`, once a connection is accepted.
    static func metric(_ series: String, adminPort: Int) async throws -> Double? {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            let page =
                try await RawTCPConnection.exchange(
                    port: adminPort, bytes: request(["GET /metrics HTTP/1.1", "Host: 127.0.0.1", "Connection: close"])) ?? ""
            if page.hasPrefix("HTTP/1.1 200") {
                let line = page.split(separator: "\n").first { $0.hasPrefix(series + " ") }
                return line.flatMap { Double($0.split(separator: " ").last ?? "") }
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }

    @Test("connections beyond [admin] max_connections are closed at once, while TLS requests are answered")
    func connectionCap() async throws {
        try await Self.withGateway(server: "request_header_timeout = \"600s\"\nidle_timeout = \"600s\"", admin: "max_connections = 4") {
            gateway, adminPort in
            var holders: [RawTCPConnection] = []
            for _ in 0..<4 {
                let holder = try await RawTCPConnection.open(
                    port: adminPort, sending: Self.request(["GET /healthz HTTP/1.1", "Host: 127.0.0.1"]))
                #expect(try await holder.read(until: "ok\n").hasPrefix("HTTP/1.1 200"))
                holders.append(holder)
            }
            let flood = 200
            async let extras: [String?] = withThrowingTaskGroup(of: String?.self) { group in
                for _ in 0..<flood {
                    group.addTask {
                        try await RawTCPConnection.open(port: adminPort, sending: Array("GET /metrics HTTP/1.1\r\n".utf8))
                            .untilClosed()
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            var statuses: [String] = []
            for _ in 0..<10 { statuses.append(try await Self.proxied(gateway)) }
            let closed = try await extras
            #expect(closed.count == flood)
            #expect(closed.allSatisfy { $0 == "" }, "each extra connection is closed without an answer")
            #expect(statuses == Array(repeating: "HTTP/1.1 200 OK", count: 10))

            await holders.removeLast().close()
            let refused = try await Self.metric(#"gateway_connections_refused_total{reason="admin_max_connections"}"#, adminPort: adminPort)
            #expect((refused ?? 0) >= Double(flood))
            for holder in holders { await holder.close() }
        }
    }

    @Test("a partial request head is closed after request_header_timeout")
    func partialHead() async throws {
        try await Self.withGateway(server: "request_header_timeout = \"1s\"\nidle_timeout = \"2s\"") { _, adminPort in
            let start = ContinuousClock.now
            let connection = try await RawTCPConnection.open(port: adminPort, sending: Array("GET /metrics HTTP/1.1\r\n".utf8))
            #expect(try await connection.untilClosed() == "", "closed by the gateway, without an answer")
            #expect(ContinuousClock.now - start >= .milliseconds(900))
        }
    }

    @Test("an idle keep-alive connection is closed after idle_timeout")
    func idleKeepAlive() async throws {
        try await Self.withGateway(server: "request_header_timeout = \"1s\"\nidle_timeout = \"2s\"") { _, adminPort in
            let connection = try await RawTCPConnection.open(
                port: adminPort, sending: Self.request(["GET /healthz HTTP/1.1", "Host: 127.0.0.1"]))
            #expect(try await connection.read(until: "ok\n").hasPrefix("HTTP/1.1 200"))
            let answer = try await connection.untilClosed()
            #expect(answer?.hasPrefix("HTTP/1.1 200") == true, "closed by the gateway after its answer")
        }
    }

    @Test("requests the TLS listener refuses are refused here too")
    func strictParsing() async throws {
        try await Self.withGateway { _, adminPort in
            let refused: [(lines: [String], status: String)] = [
                (["GET /metrics HTTP/1.1", "Host: 127.0.0.1", "Host: evil.test"], "400"),
                (["GET http://evil.test/metrics HTTP/1.1", "Host: 127.0.0.1"], "400"),
                (["GET /metrics HTTP/1.1"], "400"),
                (["GET /limits%2Freset HTTP/1.1", "Host: 127.0.0.1"], "400"),
                (["POST /limits/reset?key=ip:127.0.0.1 HTTP/1.1", "Host: 127.0.0.1", "Content-Length: 100000"], "413"),
                (["GET /metrics HTTP/1.1", "Host: 127.0.0.1", "Origin: http://evil.test"], "403"),
                (["GET /metrics HTTP/1.1", "Host: evil.test"], "403"),
                (["GET /nothing HTTP/1.1", "Host: 127.0.0.1"], "404"),
                (["POST /metrics HTTP/1.1", "Host: 127.0.0.1", "Content-Length: 0"], "405"),
            ]
            for (lines, status) in refused {
                let answer = try await RawTCPConnection.exchange(port: adminPort, bytes: Self.request(lines + ["Connection: close"]))
                #expect(answer?.hasPrefix("HTTP/1.1 \(status)") == true, "\(lines): \(answer ?? "still open")")
            }
            let keptAlive = try await RawTCPConnection.open(
                port: adminPort,
                sending: Self.request(["GET /healthz HTTP/1.1", "Host: localhost:1"])
                    + Self.request(["GET /healthz HTTP/1.1", "Host: [::1]", "Connection: close"]))
            let both = try await keptAlive.untilClosed()
            #expect(both?.components(separatedBy: "HTTP/1.1 200").count == 3, "\(both ?? "still open")")
        }
    }

    @Test("check-config warns when [admin] listen is not a loopback address")
    func checkConfigWarns() async throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = try writeConfig(in: directory, upstreamPort: 8081, extra: "[admin]\nlisten = \"0.0.0.0:9901\"")
        let (status, output) = try await runGateway(
            ["check-config", "--config", config], environment: ["JWT_SECRET_KEY": Fixtures.jwtSecret])
        #expect(status == 0, "\(output)")
        #expect(output.contains("warning: \(config):"), "\(output)")
        #expect(output.contains("admin.listen: 0.0.0.0:9901 is not a loopback address"), "\(output)")
    }
}
