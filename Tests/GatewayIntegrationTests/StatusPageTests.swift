import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// `GET /status` on the admin listener of the real binary, loaded in headless Chromium: the page
/// renders under its own Content-Security-Policy, and shows live values after a few requests, a
/// reload and an upstream taken down. The screenshot is left at ``screenshot``.
@Suite("Status page", .timeLimit(.minutes(5)))
struct StatusPageTests {
    /// Where the test leaves the page's screenshot for a person to look at.
    static let screenshot = Fixtures.repositoryRoot + "/.build/test-output/status-page.png"

    static let routes = """
        [[upstream]]
        name = "orders"
        targets = ["http://127.0.0.1:%ORDERS%"]
        health_check = { interval = "250ms", timeout = "250ms", unhealthy_after = 1, healthy_after = 1 }

        [[route]]
        path = "/"
        upstream = "test"
        auth = "none"
        public = true
        rate_limit = [{ rate = "3/minute", key = "ip" }]

        [[route]]
        path = "/private"
        upstream = "test"
        scopes = ["reports"]

        [[route]]
        path = "/orders"
        upstream = "orders"
        auth = "none"
        """

    @Test("Chromium shows version, generation, reload, certificate, target health, routes, rates, security events and refused keys")
    func page() async throws {
        try #require(
            FileManager.default.isExecutableFile(atPath: BrowserCORSTests.chromium), "chromium is missing; scripts/test installs it")
        let users = try await TestUpstream.start()
        let orders = try await TestUpstream.start()
        defer { Task { await users.stop() } }
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = try writeConfig(
            in: directory, upstreamPort: users.port,
            upstream: ObservabilityTests.checkedTargets([users.port]),
            routes: Self.routes.replacingOccurrences(of: "%ORDERS%", with: "\(orders.port)"),
            extra: "[admin]\nlisten = \"127.0.0.1:0\"")
        let gateway = try await GatewayProcess.start(configPath: config)
        let admin = "http://127.0.0.1:\(try await gateway.adminPort())"
        let base = "https://localhost:\(gateway.port)"
        try await AuditShutdownTests.withClient { client in
            _ = try await ObservabilityTests.readiness(admin, becomes: 200, client: client)
            var statuses: [Int] = []
            for _ in 0..<4 { statuses.append(try await ObservabilityTests.get(base + "/echo", client: client).status) }
            #expect(statuses == [200, 200, 200, 429])
            #expect(try await ObservabilityTests.get(base + "/private/report", client: client).status == 401)
            await orders.stop()
            let ordersUp = #"gateway_upstream_target_up{upstream="orders",target="127.0.0.1:\#(orders.port)"}"#
            _ = try await ObservabilityTests.metrics(admin, until: ordersUp, is: 0, client: client)
            try await ReloadTests.reload(gateway, expecting: 1)

            let response = try await client.execute(HTTPClientRequest(url: admin + "/status"), timeout: .seconds(10))
            #expect(response.status == .ok)
            #expect(response.headers["content-type"] == ["text/html; charset=utf-8"])
            let policy = try #require(response.headers["content-security-policy"].first)
            #expect(policy.hasPrefix("default-src 'none'; style-src 'sha256-") && !policy.contains("unsafe"), "\(policy)")
        }

        let profile = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: profile) }
        let browser = [
            "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=\(profile.path)", "--enable-logging=stderr",
            "--window-size=1280,1400",
        ]
        let dom = try await runProcess(BrowserCORSTests.chromium, browser + ["--dump-dom", admin + "/status"])
        let html = dom.output
        #expect(!html.contains("Refused to apply"), "the page's style passes its own CSP: \(html)")
        #expect(html.contains(#"<b id="version">0.1.0</b>"#), "\(html)")
        #expect(html.contains(#"<b id="generation">2</b>"#))
        #expect(html.contains(#"<b id="last-reload">applied "#))
        #expect(html.contains("localhost: expires 2046-11-29"))
        #expect(html.contains(#"<td>orders</td><td>127.0.0.1:\#(orders.port)</td><td><span class="down">down</span></td>"#), "\(html)")
        #expect(html.contains(#"<td>test</td><td>127.0.0.1:\#(users.port)</td><td><span class="up">up</span></td>"#))
        #expect(html.contains("auth required scopes reports"))
        #expect(html.contains("rate_limit 3/minute by ip"))
        #expect(html.contains("<td>auth_missing</td><td>127.0.0.1</td><td>/private</td>"), "\(html)")
        #expect(html.contains("<td>rate_limited</td><td>127.0.0.1</td><td>/</td>"))
        #expect(html.contains("<tr><td>ip:127.0.0.1</td><td>1</td></tr>"))
        let rootRoute = try #require(html.split(separator: "\n").first { $0.hasPrefix("<tr><td><code>/</code></td>") }, "\(html)")
        let cells = rootRoute.components(separatedBy: "<td>").map { $0.replacingOccurrences(of: "</td>", with: "") }
        #expect(cells.count == 6 && (Double(cells[4]) ?? 0) > 0, "requests per second on /: \(rootRoute)")
        #expect(cells.last?.hasPrefix("0.0%") == true, "no 5xx on /: \(rootRoute)")
        #expect(!html.contains("Bearer") && !html.contains("eyJ"), "no token on the page")

        try FileManager.default.createDirectory(
            atPath: (Self.screenshot as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try? FileManager.default.removeItem(atPath: Self.screenshot)
        let shot = try await runProcess(BrowserCORSTests.chromium, browser + ["--screenshot=\(Self.screenshot)", admin + "/status"])
        let size = (try? FileManager.default.attributesOfItem(atPath: Self.screenshot)[.size] as? Int) ?? 0
        #expect(size > 10_000, "\(shot.output)")
        print("status page screenshot: \(Self.screenshot)")
        #expect(await gateway.terminate() == .success)
    }
}
