import Foundation
import GatewayCore
import Testing

/// Several certificates chosen by SNI, checked with the openssl command-line client: each name gets
/// its certificate, anything else the default; SIGHUP swaps one; bad entries stop start-up.
@Suite("SNI certificates", .timeLimit(.minutes(3)))
struct SNITests {
    /// The default `localhost` certificate, `sni-api` by the names of its subjectAltName
    /// (`api.example.test`, `*.api.example.test`), and `sni-admin` by its `server_names`.
    static let certificates = [
        TLSCertificateConfig(certificatePath: Fixtures.serverCertificate, privateKeyPath: Fixtures.serverKey),
        TLSCertificateConfig(
            certificatePath: Fixtures.path("sni-api.crt"), privateKeyPath: Fixtures.path("sni-api.key"),
            configPath: "tls.certificates[1]"),
        TLSCertificateConfig(
            certificatePath: Fixtures.path("sni-admin.crt"), privateKeyPath: Fixtures.path("sni-admin.key"),
            serverNames: [ServerName("Admin.Example.Test")!], configPath: "tls.certificates[2]"),
    ]

    func withGateway(_ body: (GatewayHarness) async throws -> Void) async throws {
        try await TestUpstream.with { upstream in
            var config = GatewayHarness.config(
                upstreams: ["test": upstream.port], routes: [RouteConfig(path: "/", upstream: "test", auth: .none)])
            config.tls.certificates = Self.certificates
            try await GatewayHarness.with(config, body)
        }
    }

    /// The subject of the certificate served to a client that sends `serverName` (none when `nil`).
    static func servedSubject(port: Int, serverName: String?) async throws -> String {
        let sni = serverName.map { "-servername \($0)" } ?? "-noservername"
        let result = try await runProcess(
            "/bin/bash",
            ["-c", "openssl s_client -connect 127.0.0.1:\(port) \(sni) </dev/null 2>/dev/null | openssl x509 -noout -subject"])
        return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test("each name gets its certificate: exact, by wildcard, in any case")
    func namedCertificates() async throws {
        try await withGateway { gateway in
            for (name, subject) in [
                ("api.example.test", "api.example.test"), ("v2.api.example.test", "api.example.test"),
                ("ADMIN.example.test", "admin.example.test"), ("localhost", "localhost"),
            ] {
                let served = try await Self.servedSubject(port: gateway.port, serverName: name)
                #expect(served == "subject=CN = \(subject)", "for \(name)")
            }
        }
    }

    @Test("an unknown name, a name two labels under a wildcard, and no SNI get the default certificate")
    func defaultCertificate() async throws {
        try await withGateway { gateway in
            for name in ["other.example.test", "a.b.api.example.test", nil] {
                let served = try await Self.servedSubject(port: gateway.port, serverName: name)
                #expect(served == "subject=CN = localhost", "for \(name ?? "no SNI")")
            }
        }
    }

    @Test("a chosen certificate verifies for its name and keeps the TLS policy: versions, ALPN, and requests are proxied")
    func policyOnEveryCertificate() async throws {
        try await withGateway { gateway in
            func sClient(_ name: String, _ arguments: [String]) async throws -> String {
                try await runProcess(
                    "/usr/bin/openssl",
                    ["s_client", "-connect", "127.0.0.1:\(gateway.port)", "-servername", name, "-CAfile", Fixtures.caCertificate]
                        + arguments
                ).output
            }
            let verified = try await sClient("admin.example.test", ["-verify_hostname", "admin.example.test", "-alpn", "h2,http/1.1"])
            #expect(verified.contains("Verify return code: 0 (ok)"), "\(verified)")
            #expect(verified.contains("ALPN protocol: h2"))
            let old = try await sClient("api.example.test", ["-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"])
            #expect(old.contains("Cipher is (NONE)"))
            let request = "printf 'GET /sni HTTP/1.1\\r\\nHost: api.example.test\\r\\nConnection: close\\r\\n\\r\\n'"
            let response = try await runProcess(
                "/bin/bash",
                [
                    "-c",
                    "\(request) | openssl s_client -quiet -ign_eof -connect 127.0.0.1:\(gateway.port) -servername api.example.test 2>/dev/null",
                ])
            #expect(response.output.hasPrefix("HTTP/1.1 200"), "\(response.output)")
        }
    }

    func startupError(_ entry: TLSCertificateConfig) -> StartupError? {
        do {
            _ = try TLSContextFactory.makeServerContext(TLSConfig(certificates: [Self.certificates[0], entry]))
            return nil
        } catch {
            return error
        }
    }

    @Test("a server name the certificate does not cover stops start-up")
    func uncoveredName() {
        let error = startupError(
            TLSCertificateConfig(
                certificatePath: Fixtures.path("sni-admin.crt"), privateKeyPath: Fixtures.path("sni-admin.key"),
                serverNames: [ServerName("admin.example.test")!, ServerName("*.example.test")!],
                configPath: "tls.certificates[1]"))
        #expect(error?.keyPath == "tls.certificates[1].server_names[1]")
        #expect(
            error?.message.contains(#"is not valid for "*.example.test" (it covers admin.example.test)"#) == true,
            "\(String(describing: error))")
    }

    @Test("every entry is checked as the single certificate is: key match, expiry, readable")
    func entriesAreChecked() {
        let mismatched = startupError(
            TLSCertificateConfig(
                certificatePath: Fixtures.path("sni-api.crt"), privateKeyPath: Fixtures.path("other.key"), configPath: "tls.certificates[1]"
            ))
        #expect(mismatched?.keyPath == "tls.certificates[1].private_key")
        #expect(mismatched?.message.contains("does not match the certificate") == true)
        let expired = startupError(
            TLSCertificateConfig(
                certificatePath: Fixtures.path("expired.crt"), privateKeyPath: Fixtures.path("expired.key"),
                configPath: "tls.certificates[1]"))
        #expect(expired?.keyPath == "tls.certificates[1].certificate")
        #expect(expired?.message.contains("expired") == true)
        let missing = startupError(
            TLSCertificateConfig(
                certificatePath: "/nonexistent/a.crt", privateKeyPath: Fixtures.serverKey, configPath: "tls.certificates[1]"))
        #expect(missing == StartupError("tls.certificates[1].certificate", "cannot read /nonexistent/a.crt"))
    }

    @Test("SIGHUP swaps one certificate of several; a reload whose entry does not check out is refused")
    func reload() async throws {
        try await TestUpstream.with { upstream in
            let directory = try Fixtures.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let apiCertificate = directory.appendingPathComponent("api.crt").path
            let apiKey = directory.appendingPathComponent("api.key").path
            try ReloadTests.replace(apiCertificate, with: Fixtures.path("sni-api.crt"))
            try ReloadTests.replace(apiKey, with: Fixtures.path("sni-api.key"))
            let tls = """
                [[tls.certificates]]
                certificate = "\(Fixtures.serverCertificate)"
                private_key = "\(Fixtures.serverKey)"

                [[tls.certificates]]
                certificate = "\(apiCertificate)"
                private_key = "\(apiKey)"
                server_names = ["api.example.test"]
                """
            let path = try writeConfig(in: directory, upstreamPort: upstream.port, tls: tls)
            let gateway = try await GatewayProcess.start(configPath: path)
            func served(_ name: String) async throws -> String {
                try await runProcess(
                    "/bin/bash",
                    [
                        "-c",
                        "openssl s_client -connect 127.0.0.1:\(gateway.port) -servername \(name) </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256",
                    ]
                ).output.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            let first = try await ReloadTests.fingerprint(of: Fixtures.path("sni-api.crt"))
            #expect(try await served("api.example.test") == first)

            try ReloadTests.replace(apiCertificate, with: Fixtures.path("sni-api-renewed.crt"))
            try ReloadTests.replace(apiKey, with: Fixtures.path("sni-api-renewed.key"))
            try await ReloadTests.reload(gateway, expecting: 1)
            let renewed = try await ReloadTests.fingerprint(of: Fixtures.path("sni-api-renewed.crt"))
            #expect(try await served("api.example.test") == renewed)
            let defaultCertificate = try await ReloadTests.fingerprint(of: Fixtures.serverCertificate)
            #expect(try await served("localhost") == defaultCertificate)

            try ReloadTests.replace(apiKey, with: Fixtures.path("other.key"))
            gateway.reload()
            let deadline = ContinuousClock.now + .seconds(10)
            while !gateway.log.contains("config reload refused"), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(gateway.log.contains("tls.certificates[1].private_key"), "\(gateway.log)")
            #expect(try await served("api.example.test") == renewed)
            #expect(await gateway.terminate() == .success)
        }
    }
}
