import Foundation
import GatewayCore
import Testing

/// TLS policy of the listener, checked with the openssl command-line client, and start-up refusals.
@Suite("TLS")
struct TLSTests {
    /// Runs `openssl s_client` against the gateway and returns its combined output.
    func sClient(port: Int, _ arguments: [String]) async throws -> String {
        try await runProcess(
            "/usr/bin/openssl",
            ["s_client", "-connect", "127.0.0.1:\(port)", "-servername", "localhost", "-CAfile", Fixtures.caCertificate] + arguments
        ).output
    }

    func withGateway(_ tls: (inout TLSConfig) -> Void = { _ in }, _ body: (GatewayHarness) async throws -> Void) async throws {
        try await TestUpstream.with { upstream in
            var config = GatewayHarness.config(
                upstreams: ["test": upstream.port], routes: [RouteConfig(path: "/", upstream: "test", auth: .none)])
            tls(&config.tls)
            try await GatewayHarness.with(config, body)
        }
    }

    @Test("TLS 1.1 is refused; 1.2 and 1.3 are accepted")
    func versions() async throws {
        try await withGateway { gateway in
            let old = try await sClient(port: gateway.port, ["-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"])
            #expect(old.contains("alert protocol version"))
            #expect(old.contains("Cipher is (NONE)"))
            let tls12 = try await sClient(port: gateway.port, ["-tls1_2"])
            #expect(tls12.contains("Protocol  : TLSv1.2") || tls12.contains("TLSv1.2"))
            #expect(tls12.contains("Verify return code: 0 (ok)"))
            let tls13 = try await sClient(port: gateway.port, ["-tls1_3"])
            #expect(tls13.contains("TLSv1.3"))
        }
    }

    @Test("TLS 1.2 offers only ECDHE with AEAD ciphers")
    func cipherSuites() async throws {
        try await withGateway { gateway in
            let cbc = try await sClient(
                port: gateway.port, ["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA384:AES128-GCM-SHA256"])
            #expect(!cbc.contains("Cipher is ECDHE-ECDSA-AES128-SHA"))
            #expect(cbc.contains("alert") || cbc.contains("Cipher is (NONE)"))
            let gcm = try await sClient(port: gateway.port, ["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256"])
            #expect(gcm.contains("ECDHE-ECDSA-AES128-GCM-SHA256"))
        }
    }

    @Test("min_version 1.3 refuses TLS 1.2")
    func minimumVersion13() async throws {
        try await withGateway({ $0.minVersion = .v1_3 }) { gateway in
            let tls12 = try await sClient(port: gateway.port, ["-tls1_2"])
            #expect(tls12.contains("alert protocol version"))
            #expect(tls12.contains("Cipher is (NONE)"))
            #expect(try await sClient(port: gateway.port, ["-tls1_3"]).contains("TLSv1.3"))
        }
    }

    @Test("ALPN selects h2 when offered, and http/1.1 for a client that offers only that")
    func alpn() async throws {
        try await withGateway { gateway in
            let both = try await sClient(port: gateway.port, ["-alpn", "http/1.1,h2"])
            #expect(both.contains("ALPN protocol: h2"))
            let http1 = try await sClient(port: gateway.port, ["-alpn", "http/1.1"])
            #expect(http1.contains("ALPN protocol: http/1.1"))
        }
    }

    @Test("an RSA certificate and key work too")
    func rsa() async throws {
        try await withGateway({
            $0.certificatePath = Fixtures.path("server-rsa.crt")
            $0.privateKeyPath = Fixtures.path("server-rsa.key")
        }) { gateway in
            let output = try await sClient(port: gateway.port, ["-tls1_2"])
            #expect(output.contains("ECDHE-RSA-"))
            #expect(output.contains("Verify return code: 0 (ok)"))
        }
    }

    func startupError(certificate: String, key: String) -> StartupError? {
        let tls = TLSConfig(certificatePath: certificate, privateKeyPath: key)
        do {
            _ = try TLSContextFactory.makeServerContext(tls)
            return nil
        } catch {
            return error
        }
    }

    @Test("a key that does not match its certificate stops start-up")
    func mismatchedKey() {
        let error = startupError(certificate: Fixtures.serverCertificate, key: Fixtures.path("other.key"))
        #expect(error?.keyPath == "tls.private_key")
        #expect(error?.message.contains("does not match the certificate") == true)
    }

    @Test("an expired certificate stops start-up")
    func expired() {
        let error = startupError(certificate: Fixtures.path("expired.crt"), key: Fixtures.path("expired.key"))
        #expect(error?.keyPath == "tls.certificate")
        #expect(error?.message.contains("expired") == true)
    }

    @Test("an unreadable file stops start-up")
    func unreadable() {
        let error = startupError(certificate: "/nonexistent/cert.pem", key: Fixtures.serverKey)
        #expect(error == StartupError("tls.certificate", "cannot read /nonexistent/cert.pem"))
    }
}
