import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The gateway as systemd runs it (`DynamicUser=yes`, no capability but binding low ports): every
/// socket option it sets must be one an unprivileged process may set.
@Suite("Running unprivileged")
struct UnprivilegedTests {
    @Test(
        "as an unprivileged user the gateway accepts TLS connections and reaches its upstream",
        .enabled(if: getuid() == 0, "needs root to start the gateway as another user"))
    func servesAsNobody() async throws {
        try await TestUpstream.with { upstream in
            let directory = try Fixtures.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let key = directory.appendingPathComponent("server.key").path
            let certificate = directory.appendingPathComponent("server.crt").path
            try FileManager.default.copyItem(atPath: Fixtures.serverKey, toPath: key)
            try FileManager.default.copyItem(atPath: Fixtures.serverCertificate, toPath: certificate)
            let config = try writeConfig(in: directory, upstreamPort: upstream.port, certificate: certificate, privateKey: key)
            for path in [directory.path, key, certificate, config] {
                #expect(chown(path, 65_534, 65_534) == 0, "chown \(path)")
            }
            let gateway = try await GatewayProcess.start(
                configPath: config, launcher: ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"])
            #expect(try await RateLimitRestartTests.send(2, to: gateway) == [200, 200], "\(gateway.log)")
            #expect(await gateway.terminate() == .success)
        }
    }
}
