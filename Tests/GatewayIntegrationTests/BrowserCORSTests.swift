import Foundation
import GatewayCore
import Testing

/// CORS as a real browser enforces it: headless Chromium loads a page from an allowed origin and
/// one from another origin, each calling the gateway with credentials and an `Authorization`
/// header (so the browser sends a preflight first). Needs `chromium` (`scripts/test` installs it).
@Suite("CORS in a real browser", .timeLimit(.minutes(2)))
struct BrowserCORSTests {
    static let chromium = "/usr/bin/chromium"

    static func page(gatewayPort: Int) -> String {
        let now = Int(Date().timeIntervalSince1970)
        let token = IntegrationTokens.hs256(["sub": "42", "iss": "userservice", "aud": "gateway", "iat": now, "exp": now + 600])
        return """
            <!doctype html>
            <html><body><pre id="out">pending</pre><script>
            fetch("https://localhost:\(gatewayPort)/api/echo", {credentials: "include", headers: {Authorization: "Bearer \(token)"}})
              .then(r => r.text().then(t => { document.getElementById("out").textContent = "READ " + r.status + " " + t; }))
              .catch(e => { document.getElementById("out").textContent = "BLOCKED " + e; });
            </script></body></html>
            """
    }

    /// What the page wrote once its call settled: the DOM as headless Chromium dumps it.
    static func visit(_ url: String, profile: URL) async throws -> String {
        let result = try await runProcess(
            chromium,
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--ignore-certificate-errors", "--no-first-run",
                "--user-data-dir=\(profile.path)", "--virtual-time-budget=10000", "--dump-dom", url,
            ])
        return result.output
    }

    @Test("the page of an allowed origin reads the answer; the page of another origin is blocked by the browser")
    func browser() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.chromium), "chromium is not installed; scripts/test installs it")
        let profile = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: profile) }
        try await TestUpstream.with { upstream in
            try await TestDocumentServer.with(document: "", kind: .page) { allowed in
                try await TestDocumentServer.with(document: "", kind: .page) { other in
                    let cors = CORSConfig(
                        allowedOrigins: [OriginPattern(allowed.origin)!], allowedHeaders: ["Authorization"], allowCredentials: true)
                    let config = GatewayHarness.config(
                        upstreams: ["test": upstream.port], routes: [RouteConfig(path: "/api", upstream: "test", cors: cors)])
                    try await GatewayHarness.with(config) { gateway in
                        let page = Self.page(gatewayPort: gateway.port)
                        allowed.serve(page)
                        other.serve(page)

                        let read = try await Self.visit(allowed.url, profile: profile)
                        #expect(read.contains(#"<pre id="out">READ 200 {"#), "\(read)")
                        #expect(read.contains(#"["X-Auth-Subject","42"]"#), "the page read the upstream's echo: \(read)")

                        let blocked = try await Self.visit(other.url, profile: profile)
                        #expect(blocked.contains(#"<pre id="out">BLOCKED TypeError"#), "\(blocked)")
                        let refusals = try await gateway.auditEvents().filter { $0.type == .corsRejected }
                        #expect(refusals.map(\.reason) == ["origin \(other.origin) not allowed"], "the browser's preflight was refused")
                    }
                }
            }
        }
    }
}
