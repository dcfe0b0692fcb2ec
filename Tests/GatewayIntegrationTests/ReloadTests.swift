import AsyncHTTPClient
import Foundation
import GatewayCore
import NIOCore
import NIOHTTP1
import NIOHTTP2
import Synchronization
import Testing

/// SIGHUP on the real binary: config and certificates swap under load without one failed request;
/// a bad config is refused and the running one keeps serving.
@Suite("Reload on SIGHUP", .timeLimit(.minutes(3)))
struct ReloadTests {
    /// Writes the two configs (differing in `idle_timeout`) over certificate files at fixed paths.
    static func prepare(_ directory: URL, upstreamPort: Int) throws -> (live: String, a: String, b: String) {
        try install(Fixtures.serverCertificate, Fixtures.serverKey, in: directory)
        let certificate = directory.appendingPathComponent("tls.crt").path
        let key = directory.appendingPathComponent("tls.key").path
        let a = try writeConfig(
            in: directory, upstreamPort: upstreamPort, extraServer: #"idle_timeout = "30s""#, certificate: certificate, privateKey: key,
            name: "a.conf")
        let b = try writeConfig(
            in: directory, upstreamPort: upstreamPort, extraServer: #"idle_timeout = "31s""#, certificate: certificate, privateKey: key,
            name: "b.conf")
        let live = directory.appendingPathComponent("gateway.conf").path
        try replace(live, with: a)
        return (live, a, b)
    }

    /// Puts a certificate and key at the live paths, as certbot renews: a new file renamed over the old.
    static func install(_ certificate: String, _ key: String, in directory: URL) throws {
        try replace(directory.appendingPathComponent("tls.crt").path, with: certificate)
        try replace(directory.appendingPathComponent("tls.key").path, with: key)
    }

    static func replace(_ path: String, with source: String) throws {
        let staging = path + ".new"
        try? FileManager.default.removeItem(atPath: staging)
        try FileManager.default.copyItem(atPath: source, toPath: staging)
        _ = rename(staging, path)
    }

    /// Sends SIGHUP and waits for the reload to be logged, so that signals never coalesce.
    static func reload(_ gateway: GatewayProcess, expecting count: Int) async throws {
        let refusals = gateway.log.components(separatedBy: "config reload refused").count - 1
        gateway.reload()
        try await waitForReloads(gateway, count: count, refusals: refusals)
    }

    /// Waits until `count` reloads have been applied in all; one more refusal than `refusals`
    /// fails at once, with the reason in the log.
    static func waitForReloads(_ gateway: GatewayProcess, count: Int, refusals: Int = 0) async throws {
        // Generous: a reload first runs `check-config` as a child process, which a busy machine slows.
        let deadline = ContinuousClock.now + .seconds(120)
        while gateway.log.components(separatedBy: "config reloaded").count - 1 < count {
            let log = gateway.log
            guard ContinuousClock.now < deadline, log.components(separatedBy: "config reload refused").count - 1 <= refusals else {
                throw GatewayProcessError(
                    log: log.split(separator: "\n").filter { !$0.contains(" request ") }.suffix(30).joined(separator: "\n"))
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// The SHA-256 fingerprint of the certificate a new TLS connection is served.
    static func servedFingerprint(port: Int) async throws -> String {
        let result = try await runProcess(
            "/bin/bash",
            [
                "-c",
                "openssl s_client -connect 127.0.0.1:\(port) -servername localhost </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256",
            ])
        return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func fingerprint(of certificate: String) async throws -> String {
        try await runProcess("/usr/bin/openssl", ["x509", "-in", certificate, "-noout", "-fingerprint", "-sha256"]).output
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test(
        "ten reloads alternating two configs and two certificates under load fail no request; the new certificate is then served",
        arguments: [HTTPClient.Configuration.HTTPVersion.http1Only, .automatic])
    func underLoad(_ httpVersion: HTTPClient.Configuration.HTTPVersion) async throws {
        try await TestUpstream.with { upstream in
            let directory = try Fixtures.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let paths = try Self.prepare(directory, upstreamPort: upstream.port)
            let gateway = try await GatewayProcess.start(configPath: paths.live)
            let url = "https://localhost:\(gateway.port)/echo"
            let load = KeepAliveLoad()
            // `.automatic` negotiates HTTP/2: each reload then ends the connection with GOAWAY.
            try await AuditShutdownTests.withClient(httpVersion: httpVersion) { client in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for closing in [false, false, true, true] {
                        group.addTask { await load.drive(client, url: url, closing: closing) }
                    }
                    for reload in 1...10 {
                        try await Task.sleep(for: .milliseconds(200))
                        try Self.replace(paths.live, with: reload.isMultiple(of: 2) ? paths.a : paths.b)
                        let renewed = !reload.isMultiple(of: 2)
                        try Self.install(
                            renewed ? Fixtures.path("renewed-ec.crt") : Fixtures.serverCertificate,
                            renewed ? Fixtures.path("renewed-ec.key") : Fixtures.serverKey, in: directory)
                        try await Self.reload(gateway, expecting: reload)
                    }
                    // One more switch to the renewed certificate, then keep the load on until 2,000 requests.
                    try Self.install(Fixtures.path("renewed-ec.crt"), Fixtures.path("renewed-ec.key"), in: directory)
                    try await Self.reload(gateway, expecting: 11)
                    try await load.waitFor(requests: 2_000, gateway: gateway)
                    try await Task.sleep(for: .milliseconds(300))
                    load.stop()
                    try await group.waitForAll()
                }
            }
            let (ok, failed, refused) = load.counts.withLock { ($0.ok, $0.failed, $0.refused) }
            // The log without its access lines: CI keeps only the tail of what a test prints.
            let events = gateway.log.split(separator: "\n").filter { !$0.contains(" request ") }.suffix(40).joined(separator: "\n")
            #expect(
                failed.isEmpty, "\(failed.count) failed (and \(refused) refused) of \(ok + failed.count): \(failed.prefix(3))\n\(events)")
            #expect(httpVersion != .http1Only || refused == 0)
            #expect(ok >= 2_000)
            let served = try await Self.servedFingerprint(port: gateway.port)
            #expect(served == (try await Self.fingerprint(of: Fixtures.path("renewed-ec.crt"))), "\(served)")
            #expect(await gateway.terminate() == .success)
            let stats = try await SQLiteStore(path: directory.appendingPathComponent("gateway.sqlite").path).auditStats(since: .distantPast)
            #expect(stats.countsByType[.configReloaded] == 11, "\(gateway.log)")
        }
    }

    @Test("a reload applies [log] level at once: access lines stop at notice and come back at info")
    func logLevel() async throws {
        try await TestUpstream.with { upstream in
            let directory = try Fixtures.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let config = { (level: String) in
                try writeConfig(in: directory, upstreamPort: upstream.port, extra: "[log]\nlevel = \"\(level)\"")
            }
            let gateway = try await GatewayProcess.start(configPath: try config("info"))
            try await AuditShutdownTests.withClient { client in
                func get(_ path: String) async throws {
                    let response = try await client.execute(
                        HTTPClientRequest(url: "https://localhost:\(gateway.port)\(path)"), timeout: .seconds(10))
                    _ = try await response.body.collect(upTo: 1 << 20)
                }
                try await get("/echo/first")
                _ = try config("notice")
                try await Self.reload(gateway, expecting: 1)
                try await get("/echo/second")
                _ = try config("info")
                try await Self.reload(gateway, expecting: 2)
                try await get("/echo/third")
            }
            #expect(await gateway.terminate() == .success)
            let log = gateway.log
            #expect(log.contains("gateway.path=/echo/first") && log.contains("gateway.path=/echo/third"), "\(log)")
            #expect(!log.contains("gateway.path=/echo/second"), "\(log)")
            #expect(!log.contains("config reload refused"))
        }
    }

    @Test("a keep-alive connection opened before a reload serves its next request under the new policies")
    func openConnectionsTakeTheNewConfig() async throws {
        try await TestUpstream.with { upstream in
            let open = GatewayHarness.config(
                upstreams: ["test": upstream.port], routes: [RouteConfig(path: "/", upstream: "test", auth: .none)])
            try await GatewayHarness.with(open) { gateway in
                #expect(try await gateway.send("/echo").status == .ok)
                #expect(gateway.server.openConnections == 1)
                var locked = open
                locked.routes = [RouteConfig(path: "/", upstream: "test", auth: .required)]
                await gateway.server.replaceRuntime(try gateway.makeRuntime(locked))
                let next = try await gateway.send("/echo")
                #expect(next.status == .unauthorized, "the route now requires a token")
                #expect(next.headers["connection"] == ["close"], "the connection of the old config closes after it")
                #expect(upstream.requestsSeen == 1)
                #expect(try await gateway.send("/echo").headers["connection"].isEmpty, "a new connection stays open")
            }
        }
    }

    @Test("a config that does not load is refused, audited config_rejected, and the running one keeps serving")
    func badConfig() async throws {
        try await TestUpstream.with { upstream in
            let directory = try Fixtures.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let paths = try Self.prepare(directory, upstreamPort: upstream.port)
            let gateway = try await GatewayProcess.start(configPath: paths.live)
            try "[server]\nlisten = \"nowhere\"\n".write(toFile: paths.live, atomically: true, encoding: .utf8)
            gateway.reload()
            let deadline = ContinuousClock.now + .seconds(120)
            while !gateway.log.contains("config reload refused"), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(gateway.log.contains("config reload refused"), "\(gateway.log)")
            #expect(try await RateLimitRestartTests.send(2, to: gateway) == [200, 200])
            #expect(await gateway.terminate() == .success)
            let events = try await SQLiteStore(path: directory.appendingPathComponent("gateway.sqlite").path)
                .auditEvents(AuditQuery(type: .configRejected, limit: 10))
            #expect(events.count == 1)
            #expect(events.first?.event.reason?.contains("server.listen") == true, "\(events.first?.event.reason ?? "")")
        }
    }

    @Test(
        "a file that crashes the config check, and a FIFO that hangs it, are refused under load: no request fails, the daemon lives"
    )
    func checkInChildProcess() async throws {
        try await TestUpstream.with { upstream in
            let directory = try Fixtures.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let paths = try Self.prepare(directory, upstreamPort: upstream.port)
            let marker = "# this line aborts the checker (GATEWAY_TEST_ABORTING_CONFIG_MARKER)"
            let gateway = try await GatewayProcess.start(
                configPath: paths.live,
                environment: ["JWT_SECRET_KEY": Fixtures.jwtSecret, "GATEWAY_TEST_ABORTING_CONFIG_MARKER": marker])
            let url = "https://localhost:\(gateway.port)/echo"
            let load = KeepAliveLoad()
            func refusals() -> Int { gateway.log.components(separatedBy: "config reload refused").count - 1 }
            func waitForRefusals(_ count: Int) async throws {
                // The FIFO's check is killed after its 10 s timeout.
                let deadline = ContinuousClock.now + .seconds(30)
                while refusals() < count {
                    guard ContinuousClock.now < deadline else { throw GatewayProcessError(log: gateway.log) }
                    try await Task.sleep(for: .milliseconds(20))
                }
            }
            try await AuditShutdownTests.withClient(httpVersion: .http1Only) { client in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<2 { group.addTask { await load.drive(client, url: url) } }
                    let good = try String(contentsOfFile: paths.b, encoding: .utf8)
                    try (good + "\n" + marker + "\n").write(toFile: paths.live, atomically: true, encoding: .utf8)
                    gateway.reload()
                    try await waitForRefusals(1)
                    try FileManager.default.removeItem(atPath: paths.live)
                    #expect(mkfifo(paths.live, 0o600) == 0)
                    gateway.reload()
                    try await waitForRefusals(2)
                    try FileManager.default.removeItem(atPath: paths.live)
                    try Self.replace(paths.live, with: paths.b)
                    try await Self.reload(gateway, expecting: 1)
                    try await load.waitFor(requests: 200, gateway: gateway)
                    load.stop()
                    try await group.waitForAll()
                }
            }
            let (ok, failed, refused) = load.counts.withLock { ($0.ok, $0.failed, $0.refused) }
            #expect(failed.isEmpty && refused == 0, "\(failed.count) of \(ok + failed.count) failed: \(failed.prefix(3))")
            #expect(await gateway.terminate() == .success, "the daemon outlived both checks")
            let events = try await SQLiteStore(path: directory.appendingPathComponent("gateway.sqlite").path)
                .auditEvents(AuditQuery(type: .configRejected, limit: 10))
            let reasons = events.compactMap(\.event.reason).sorted()
            #expect(reasons.count == 2, "\(reasons)")
            #expect(reasons.contains { $0.hasPrefix("the config check crashed (signal 6)") }, "\(reasons)")
            #expect(reasons.contains { $0.hasPrefix("the config check took longer than 10.0 seconds") }, "\(reasons)")
        }
    }

    @Test("a change a reload cannot apply ([store] audit settings) is refused, not silently ignored")
    func restartOnlyChange() async throws {
        try await TestUpstream.with { upstream in
            let directory = try Fixtures.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let path = try writeConfig(in: directory, upstreamPort: upstream.port)
            let gateway = try await GatewayProcess.start(configPath: path)
            let text = try String(contentsOfFile: path, encoding: .utf8)
            try text.replacingOccurrences(of: "[store]\n", with: "[store]\naudit_retention = \"7d\"\n")
                .write(toFile: path, atomically: true, encoding: .utf8)
            gateway.reload()
            let deadline = ContinuousClock.now + .seconds(120)
            while !gateway.log.contains("config reload refused"), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(gateway.log.contains("[store] settings and server.node_name change only on restart"), "\(gateway.log)")
            #expect(try await RateLimitRestartTests.send(1, to: gateway) == [200])
            #expect(await gateway.terminate() == .success)
        }
    }
}
