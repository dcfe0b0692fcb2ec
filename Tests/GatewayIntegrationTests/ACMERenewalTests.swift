import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import Synchronization
import Testing

/// A certificate from a real ACME server through the gateway's own redirect listener: pebble (an
/// RFC 8555 test CA) validates certbot's HTTP-01 challenge against the gateway, certbot's deploy
/// hook puts the certificate in place and sends SIGHUP, and a keep-alive load across it all sees
/// no failed request.
@Suite("Certificates from an ACME server (pebble and certbot)", .serialized, .timeLimit(.minutes(5)))
struct ACMERenewalTests {
    @Test(
        "certbot --webroot against pebble through the redirect listener, then a renewal: each deploy hook's reload serves the new certificate, no request fails"
    )
    func renewal() async throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let webroot = directory.appendingPathComponent("acme")
        try FileManager.default.createDirectory(at: webroot, withIntermediateDirectories: false)
        let certificate = directory.appendingPathComponent("tls.crt").path
        let key = directory.appendingPathComponent("tls.key").path
        try ReloadTests.replace(certificate, with: Fixtures.serverCertificate)
        try ReloadTests.replace(key, with: Fixtures.serverKey)
        try await TestUpstream.with { upstream in
            let config = try writeConfig(
                in: directory, upstreamPort: upstream.port,
                extraServer: "redirect_http_listen = \"127.0.0.1:0\"\nacme_challenge_dir = \"\(webroot.path)\"",
                certificate: certificate, privateKey: key)
            let gateway = try await GatewayProcess.start(configPath: config)
            let pebble = try await Pebble.start(in: directory, challengePort: try await gateway.redirectPort())
            defer { pebble.stop() }
            let pebbleRoot = try await pebble.rootCertificate()
            let before = try await Self.served(port: gateway.port)
            let url = "https://localhost:\(gateway.port)/echo"

            let load = KeepAliveLoad()
            let trustRoots = NIOSSLTrustRoots.certificates(
                try NIOSSLCertificate.fromPEMFile(Fixtures.caCertificate) + [
                    try NIOSSLCertificate(bytes: Array(pebbleRoot.utf8), format: .pem)
                ])
            // First the certificate, then a forced renewal that reuses its key, each with its reload under the load.
            var runs: [(certbot: (status: Int32, output: String), served: ServedCertificate)] = []
            try await AuditShutdownTests.withClient(trustRoots: trustRoots) { client in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<4 { group.addTask { await load.drive(client, url: url) } }
                    try await load.waitFor(requests: 200, gateway: gateway)
                    for renewing in [false, true] {
                        let certbot = try await Self.certbot(
                            renewing: renewing, directory: directory, webroot: webroot, pebble: pebble, certificate: certificate,
                            key: key, gatewayPID: gateway.process.processIdentifier)
                        guard certbot.status == 0 else {
                            runs.append((certbot, before))
                            break
                        }
                        try await ReloadTests.waitForReloads(gateway, count: runs.count + 1)
                        let reloadedAt = load.counts.withLock { $0.answered }
                        try await load.waitFor(requests: reloadedAt + 400, gateway: gateway)
                        runs.append((certbot, try await Self.served(port: gateway.port)))
                    }
                    load.stop()
                    try await group.waitForAll()
                }
            }
            for run in runs { #expect(run.certbot.status == 0, "\(run.certbot.output)\n\(pebble.log)\n\(gateway.log)") }
            try #require(runs.count == 2)
            let (issued, renewed) = (runs[0].served, runs[1].served)
            let (ok, failed, refused) = load.counts.withLock { ($0.ok, $0.failed, $0.refused) }
            print(
                "ACME renewal: serial \(before.serial) (\(before.issuer)) → issued \(issued.serial) → renewed \(renewed.serial) "
                    + "(\(renewed.issuer)); \(ok) requests, \(failed.count) failed"
            )
            #expect(failed.isEmpty && refused == 0, "\(failed.count) of \(ok + failed.count) failed: \(failed.prefix(3))")
            #expect(ok >= 1_000)
            #expect(Set([before.serial, issued.serial, renewed.serial]).count == 3)
            #expect(issued.publicKey != before.publicKey)
            #expect(renewed.publicKey == issued.publicKey, "--reuse-key keeps the key that the systemd credential holds")
            for served in [issued, renewed] { #expect(served.issuer.contains("Pebble Intermediate CA"), "\(served.issuer)") }
            // Verified against pebble's root alone, for localhost: the chain the gateway now serves is pebble's.
            let verification = try await Self.verify(port: gateway.port, root: pebbleRoot, in: directory)
            #expect(verification.contains("Verify return code: 0 (ok)"), "\(verification)")
            #expect(gateway.log.contains("ACME challenge answered"), "\(gateway.log)")
            // The key sits three levels above the challenge folder: no form of the path reaches it.
            let redirectPort = try await gateway.redirectPort()
            for target in ["../../../tls.key", "%2e%2e/%2e%2e/%2e%2e/tls.key", "..%2f..%2f..%2ftls.key"] {
                let answer = try await ACMEChallengeTests.get(redirectPort, "GET /.well-known/acme-challenge/\(target)")
                #expect(answer.status == 308 && !answer.response.contains("PRIVATE KEY"), "\(target): \(answer.response)")
            }
            #expect(await gateway.terminate() == .success)
        }
    }

    @Test("a certificate that expires within 14 days is warned about at start and on each reload")
    func expiryWarning() async throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (certificate, key) = try await Self.selfSigned("short", days: 3, in: directory)
        try await TestUpstream.with { upstream in
            let gateway = try await GatewayProcess.start(
                configPath: try writeConfig(in: directory, upstreamPort: upstream.port, certificate: certificate, privateKey: key))
            func warnings() -> [Substring] {
                gateway.log.split(separator: "\n").filter { $0.contains("TLS certificate expires within 14 days") }
            }
            // The check at start runs beside the listeners, so it may follow "gateway listening".
            let deadline = ContinuousClock.now + .seconds(60)
            while warnings().isEmpty, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
            #expect(warnings().count == 1, "\(gateway.log)")
            #expect(warnings().first?.contains("gateway.certificate=localhost gateway.days_left=2") == true, "\(warnings())")
            try await ReloadTests.reload(gateway, expecting: 1)
            #expect(warnings().count == 2, "\(gateway.log)")
            #expect(await gateway.terminate() == .success)
        }
    }

    /// A self-signed P-256 certificate for localhost and 127.0.0.1, valid for `days`, and its key:
    /// `NAME.crt` and `NAME.key` in `directory`.
    static func selfSigned(_ name: String, days: Int, in directory: URL) async throws -> (certificate: String, key: String) {
        let certificate = directory.appendingPathComponent("\(name).crt").path
        let key = directory.appendingPathComponent("\(name).key").path
        let made = try await runProcess(
            "/usr/bin/openssl",
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-days", "\(days)", "-nodes", "-subj",
                "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", key, "-out", certificate,
            ])
        try #require(made.status == 0, "\(made.output)")
        return (certificate, key)
    }

    /// `certbot certonly --webroot --reuse-key` against `pebble`, with a deploy hook that installs
    /// the new certificate and key at the gateway's paths (renamed over the old, as the hook in
    /// systemd/README.md does) and sends SIGHUP; or, `renewing`, `certbot renew --force-renewal`,
    /// which takes the hook and the key from what certbot kept of the first run (without the random
    /// sleep of up to 8 minutes it adds when not run from a terminal).
    static func certbot(
        renewing: Bool, directory: URL, webroot: URL, pebble: Pebble, certificate: String, key: String, gatewayPID: Int32
    ) async throws -> (status: Int32, output: String) {
        let hook = [
            "install -m 0644 \"$RENEWED_LINEAGE/fullchain.pem\" \(certificate).new", "mv \(certificate).new \(certificate)",
            "install -m 0600 \"$RENEWED_LINEAGE/privkey.pem\" \(key).new", "mv \(key).new \(key)", "kill -HUP \(gatewayPID)",
        ].joined(separator: " && ")
        let state = directory.appendingPathComponent("certbot")
        let paths = [
            "--config-dir", state.appendingPathComponent("config").path, "--work-dir", state.appendingPathComponent("work").path,
            "--logs-dir", state.appendingPathComponent("logs").path, "--non-interactive",
        ]
        let command =
            renewing
            ? ["renew", "--force-renewal", "--no-random-sleep-on-renew"]
            : [
                "certonly", "--webroot", "-w", webroot.path, "-d", "localhost", "--server", pebble.directoryURL, "--agree-tos",
                "--register-unsafely-without-email", "--reuse-key", "--deploy-hook", hook,
            ]
        return try await runProcess(
            "/usr/bin/certbot", command + paths,
            environment: ["REQUESTS_CA_BUNDLE": pebble.apiCertificate, "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"])
    }

    /// A certificate as a TLS client sees it.
    struct ServedCertificate {
        let serial: String
        let issuer: String
        let publicKey: String
    }

    /// The serial number, issuer and public key of the certificate a new TLS connection to `port` is served.
    static func served(port: Int) async throws -> ServedCertificate {
        let result = try await runProcess(
            "/bin/bash",
            [
                "-c",
                "openssl s_client -connect 127.0.0.1:\(port) -servername localhost </dev/null 2>/dev/null | openssl x509 -noout -serial -issuer -pubkey",
            ])
        let lines = result.output.split(separator: "\n")
        let serial = lines.first { $0.hasPrefix("serial=") }?.dropFirst("serial=".count) ?? ""
        let issuer = lines.first { $0.hasPrefix("issuer=") }?.dropFirst("issuer=".count) ?? ""
        let publicKey = lines.drop { !$0.contains("BEGIN PUBLIC KEY") }.joined(separator: "\n")
        return ServedCertificate(
            serial: String(serial), issuer: String(issuer).trimmingCharacters(in: .whitespaces), publicKey: publicKey)
    }

    /// What `openssl s_client` says of the chain `port` serves, checked against `root` only.
    static func verify(port: Int, root: String, in directory: URL) async throws -> String {
        let rootFile = directory.appendingPathComponent("pebble-root.pem")
        try root.write(to: rootFile, atomically: true, encoding: .utf8)
        return try await runProcess(
            "/bin/bash",
            [
                "-c",
                "openssl s_client -connect 127.0.0.1:\(port) -servername localhost -verify_hostname localhost -CAfile \(rootFile.path) </dev/null 2>&1",
            ]
        ).output
    }
}

/// A pebble ACME server on loopback, with a certificate of its own for its API and no random
/// validation delay; it validates HTTP-01 challenges on `challengePort`.
final class Pebble {
    let process: Process
    let logFile: URL
    let apiCertificate: String
    let port: Int
    let managementPort: Int

    var directoryURL: String { "https://127.0.0.1:\(port)/dir" }
    var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    private init(process: Process, logFile: URL, apiCertificate: String, port: Int, managementPort: Int) {
        self.process = process
        self.logFile = logFile
        self.apiCertificate = apiCertificate
        self.port = port
        self.managementPort = managementPort
    }

    static func start(in directory: URL, challengePort: Int) async throws -> Pebble {
        let (certificate, key) = try await ACMERenewalTests.selfSigned("pebble-api", days: 1, in: directory)
        // Ports for its API, its management API and TLS-ALPN-01 (unused): bound, then let go for pebble.
        let ports = try (0..<3).map { _ in try RefusingPort() }.map(\.port)
        let (port, managementPort, tlsPort) = (ports[0], ports[1], ports[2])
        let settings: [String: Any] = [
            "pebble": [
                "listenAddress": "127.0.0.1:\(port)", "managementListenAddress": "127.0.0.1:\(managementPort)",
                "certificate": certificate, "privateKey": key, "httpPort": challengePort, "tlsPort": tlsPort,
                "ocspResponderURL": "", "externalAccountBindingRequired": false,
            ]
        ]
        let configFile = directory.appendingPathComponent("pebble.json")
        try JSONSerialization.data(withJSONObject: settings).write(to: configFile)
        let logFile = directory.appendingPathComponent("pebble.log")
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/pebble")
        process.arguments = ["-config", configFile.path]
        // No random sleep before validating, and no nonce refused on purpose: certbot is tested, not its retries.
        process.environment = Fixtures.childEnvironment(["PEBBLE_VA_NOSLEEP": "1", "PEBBLE_WFE_NONCEREJECT": "0"])
        process.standardOutput = try FileHandle(forWritingTo: logFile)
        process.standardError = process.standardOutput
        try process.run()
        let pebble = Pebble(process: process, logFile: logFile, apiCertificate: certificate, port: port, managementPort: managementPort)
        let deadline = ContinuousClock.now + .seconds(60)
        while !pebble.log.contains("Listening on: 127.0.0.1:\(port)") {
            guard process.isRunning, ContinuousClock.now < deadline else {
                pebble.stop()
                throw PebbleError(log: pebble.log)
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        return pebble
    }

    /// The root of this run's CA, which pebble generates at start.
    func rootCertificate() async throws -> String {
        let result = try await runProcess(
            "/usr/bin/curl", ["-sS", "--fail", "--cacert", apiCertificate, "https://127.0.0.1:\(managementPort)/roots/0"])
        guard result.status == 0, result.output.contains("BEGIN CERTIFICATE") else { throw PebbleError(log: result.output + log) }
        return result.output
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }
}

struct PebbleError: Error, CustomStringConvertible {
    let log: String
    var description: String { "pebble did not start or answer:\n\(log)" }
}
