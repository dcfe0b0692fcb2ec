import Foundation
import GatewayCore
import Testing

/// `gateway token inspect`: the real binary, a config file and, where it matters, a store.
@Suite("Token inspect command")
struct TokenInspectCommandTests {
    static let checkCount = TokenCheck.allCases.count

    /// Claims the config of ``writeConfig(in:upstreamPort:extraServer:routes:)`` accepts, plus `extra`.
    static func claims(_ extra: [String: Any] = [:]) -> [String: Any] {
        let now = Int(Date().timeIntervalSince1970)
        let claims: [String: Any] = [
            "sub": "inspected-subject", "iss": "userservice", "aud": "gateway", "iat": now - 60, "exp": now + 3_600,
            "jti": "jti-\(UUID().uuidString)", "scope": "read write",
        ]
        return claims.merging(extra) { $1 }
    }

    /// A config in a fresh directory; with `store`, its store exists (without revocations).
    func withConfig(store: Bool = true, _ body: (_ config: String) async throws -> Void) async throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = try writeConfig(in: directory, upstreamPort: 8081)
        if store { _ = try SQLiteStore(path: directory.appendingPathComponent("gateway.sqlite").path) }
        try await body(config)
    }

    func inspect(_ token: String, config: String, json: Bool = false) async throws -> (status: Int32, output: String) {
        try await runGateway(
            ["token", "inspect", token, "--config", config] + (json ? ["--json"] : []),
            environment: ["JWT_SECRET_KEY": Fixtures.jwtSecret])
    }

    /// The lines of the checklist, each starting with ✓, ✗ or –.
    func checkLines(_ output: String) -> [Substring] {
        output.split(separator: "\n").drop { $0 != "checks" }.dropFirst().prefix { $0.hasPrefix("  ") }
            .map { $0.dropFirst(2) }
    }

    @Test("a valid token passes every check and exits 0")
    func valid() async throws {
        try await withConfig { config in
            let token = IntegrationTokens.hs256(Self.claims())
            let result = try await inspect(token, config: config)
            #expect(result.status == 0, "\(result.output)")
            let lines = checkLines(result.output)
            #expect(lines.count == Self.checkCount, "\(result.output)")
            #expect(lines.allSatisfy { $0.hasPrefix("✓ ") }, "\(result.output)")
            #expect(result.output.contains("inspected-subject"))
            #expect(result.output.contains(AuditEvent.fingerprint(ofToken: token)))
        }
    }

    @Test("never prints the token, its signature or the secret")
    func printsNoSecrets() async throws {
        try await withConfig { config in
            let token = IntegrationTokens.hs256(Self.claims())
            let signature = try #require(token.split(separator: ".").last)
            for json in [false, true] {
                let result = try await inspect(token, config: config, json: json)
                #expect(!result.output.contains(signature))
                #expect(!result.output.contains(token))
                #expect(!result.output.contains(Fixtures.jwtSecret))
            }
        }
    }

    @Test("an expired token fails the exp check and exits 1")
    func expired() async throws {
        try await withConfig { config in
            let now = Int(Date().timeIntervalSince1970)
            let token = IntegrationTokens.hs256(Self.claims(["iat": now - 7_200, "exp": now - 3_600]))
            let result = try await inspect(token, config: config)
            #expect(result.status == 1, "\(result.output)")
            let failed = checkLines(result.output).filter { $0.hasPrefix("✗ ") }
            #expect(failed.count == 1 && failed[0].hasPrefix("✗ exp present and not expired: token expired"), "\(result.output)")
        }
    }

    @Test("a token with a wrong signature fails the signature check and exits 1")
    func wrongSignature() async throws {
        try await withConfig { config in
            let parts = IntegrationTokens.hs256(Self.claims()).split(separator: ".")
            let forged = IntegrationTokens.hs256(Self.claims(["sub": "someone-else"])).split(separator: ".")
            let token = [parts[0], forged[1], parts[2]].joined(separator: ".")
            let result = try await inspect(token, config: config)
            #expect(result.status == 1, "\(result.output)")
            let failed = checkLines(result.output).filter { $0.hasPrefix("✗ ") }
            #expect(failed == ["✗ signature valid: signature invalid"], "\(result.output)")
        }
    }

    @Test("--json prints one object with every check")
    func json() async throws {
        try await withConfig { config in
            let token = IntegrationTokens.hs256(Self.claims())
            let result = try await inspect(token, config: config, json: true)
            #expect(result.status == 0, "\(result.output)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
            #expect(object["accepted"] as? Bool == true)
            #expect(object["fingerprint"] as? String == AuditEvent.fingerprint(ofToken: token))
            #expect((object["claims"] as? [String: Any])?["sub"] as? String == "inspected-subject")
            let checks = try #require(object["checks"] as? [[String: Any]])
            #expect(checks.compactMap { $0["check"] as? String } == TokenCheck.allCases.map(\.rawValue))
            #expect(checks.allSatisfy { $0["result"] as? String == "passed" })
        }
    }

    @Test("a revoked jti fails the revocation check")
    func revoked() async throws {
        try await withConfig { config in
            let jti = "revoked-\(UUID().uuidString)"
            let revoke = try await runGateway(["token", "revoke", "--jti", jti, "--config", config])
            #expect(revoke.status == 0, "\(revoke.output)")
            let result = try await inspect(IntegrationTokens.hs256(Self.claims(["jti": jti])), config: config)
            #expect(result.status == 1, "\(result.output)")
            let failed = checkLines(result.output).filter { $0.hasPrefix("✗ ") }
            #expect(failed.count == 1 && failed[0].hasPrefix("✗ not revoked: token revoked"), "\(result.output)")
        }
    }

    @Test("without a store the revocation check is not made and the store is not created")
    func noStore() async throws {
        try await withConfig(store: false) { config in
            let result = try await inspect(IntegrationTokens.hs256(Self.claims()), config: config)
            #expect(result.status == 0, "\(result.output)")
            #expect(checkLines(result.output).last == "– not revoked: store not found, revocation not checked")
            let storePath = URL(fileURLWithPath: config).deletingLastPathComponent().appendingPathComponent("gateway.sqlite").path
            #expect(!FileManager.default.fileExists(atPath: storePath))
        }
    }
}
