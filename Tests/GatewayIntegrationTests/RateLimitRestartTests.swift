import AsyncHTTPClient
import Foundation
import GatewayCore
import NIOCore
import NIOHTTP1
import Testing

/// The real binary keeps quotas across restarts on the same SQLite file (all of them after
/// SIGTERM, all but at most the last flush interval after SIGKILL), and operators can read and
/// reset them while it runs.
@Suite("Rate limits of the real binary", .timeLimit(.minutes(3)))
struct RateLimitRestartTests {
    static let routes = """
        [[route]]
        path = "/"
        upstream = "test"
        auth = "none"
        rate_limit = [{ rate = "5/hour", key = "ip" }]
        """

    /// Sends `count` requests one after another; returns their statuses.
    static func send(_ count: Int, to gateway: GatewayProcess) async throws -> [UInt] {
        try await AuditShutdownTests.withClient { client in
            var statuses: [UInt] = []
            for _ in 0..<count {
                let request = HTTPClientRequest(url: "https://localhost:\(gateway.port)/echo")
                let response = try await client.execute(request, timeout: .seconds(10))
                _ = try await response.body.collect(upTo: 1 << 20)
                statuses.append(response.status.code)
            }
            return statuses
        }
    }

    /// Waits until the store holds what the running gateway counted: `gateway limits show` reports `left` of 5 left.
    static func waitUntilStored(_ config: String, left: Int) async throws -> String {
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            let show = try await runGateway(["limits", "show", "--config", config, "--key", "ip:127.0.0.1"])
            if show.status == 0, show.output.contains(": \(left) of 5 left") { return show.output }
            guard ContinuousClock.now < deadline else {
                Issue.record("the store never showed \(left) of 5 left: \(show.output)")
                return show.output
            }
            try await Task.sleep(for: .milliseconds(500))
        }
    }

    func withConfig(extra: String = "", _ body: (String) async throws -> Void) async throws {
        try await TestUpstream.with { upstream in
            let directory = try Fixtures.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            try await body(try writeConfig(in: directory, upstreamPort: upstream.port, routes: Self.routes, extra: extra))
        }
    }

    @Test("after SIGTERM the quota continues exactly where it was")
    func afterSigterm() async throws {
        try await withConfig { config in
            let first = try await GatewayProcess.start(configPath: config)
            #expect(try await Self.send(3, to: first) == [200, 200, 200])
            #expect(await first.terminate() == .success, "\(first.log)")
            let second = try await GatewayProcess.start(configPath: config)
            #expect(try await Self.send(3, to: second) == [200, 200, 429], "\(second.log)")
            _ = await second.terminate()
        }
    }

    @Test("after SIGKILL at most the requests of the last flush interval are forgotten")
    func afterSigkill() async throws {
        try await withConfig { config in
            let first = try await GatewayProcess.start(configPath: config)
            #expect(try await Self.send(3, to: first) == [200, 200, 200])
            _ = try await Self.waitUntilStored(config, left: 2)
            #expect(try await Self.send(1, to: first) == [200])
            let killed = await first.kill()
            #expect(killed.reason == .uncaughtSignal)
            let second = try await GatewayProcess.start(configPath: config)
            let statuses = try await Self.send(3, to: second)
            // Four were counted; the last may be lost with the interval it fell in.
            #expect(statuses == [200, 429, 429] || statuses == [200, 200, 429], "\(statuses)\n\(second.log)")
            _ = await second.terminate()
        }
    }

    @Test("gateway limits show prints what is left, and reset gives a running gateway's client its quota back")
    func operatorCommands() async throws {
        try await withConfig { config in
            let gateway = try await GatewayProcess.start(configPath: config)
            #expect(try await Self.send(6, to: gateway) == [200, 200, 200, 200, 200, 429])
            let shown = try await Self.waitUntilStored(config, left: 0)
            #expect(shown.contains("5/hour by ip [route /|3600|ip]: 0 of 5 left"), "\(shown)")

            let reset = try await runGateway(["limits", "reset", "--config", config, "--key", "ip:127.0.0.1"])
            #expect(reset.status == 0, "\(reset.output)")
            #expect(reset.output.hasPrefix("reset ip:127.0.0.1: 1 counter deleted"), "\(reset.output)")
            var statuses: [UInt] = []
            let deadline = ContinuousClock.now + .seconds(5)
            while ContinuousClock.now < deadline {
                statuses = try await Self.send(1, to: gateway)
                if statuses == [200] { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(statuses == [200], "the running gateway applied the reset")
            let bad = try await runGateway(["limits", "show", "--config", config, "--key", "127.0.0.1"])
            #expect(bad.status != 0)
            _ = await gateway.terminate()
        }
    }

    @Test("the admin listener shows a key's live counters and resets them")
    func adminListener() async throws {
        try await withConfig(extra: "[admin]\nlisten = \"127.0.0.1:0\"") { config in
            let gateway = try await GatewayProcess.start(configPath: config)
            let admin = "http://127.0.0.1:\(try await gateway.adminPort())"
            #expect(try await Self.send(5, to: gateway) == [200, 200, 200, 200, 200])
            try await AuditShutdownTests.withClient { client in
                let health = try await client.execute(HTTPClientRequest(url: admin + "/healthz"), timeout: .seconds(5))
                #expect(health.status == .ok)
                let show = try await client.execute(HTTPClientRequest(url: admin + "/limits?key=ip:127.0.0.1"), timeout: .seconds(5))
                let shown = try await show.body.collect(upTo: 1 << 16)
                let object = try JSONSerialization.jsonObject(with: Data(shown.readableBytesView)) as? [String: Any]
                let counters = object?["counters"] as? [[String: Any]] ?? []
                #expect(counters.first?["remaining"] as? Int == 0, "\(object ?? [:])")
                #expect(counters.first?["name"] as? String == "5/hour by ip")
                var reset = HTTPClientRequest(url: admin + "/limits/reset?key=ip:127.0.0.1")
                reset.method = .POST
                #expect(try await client.execute(reset, timeout: .seconds(5)).status == .ok)
                let bad = try await client.execute(HTTPClientRequest(url: admin + "/limits?key=nonsense"), timeout: .seconds(5))
                #expect(bad.status == .badRequest)
            }
            #expect(try await Self.send(1, to: gateway) == [200], "the reset applies at once")
            _ = await gateway.terminate()
        }
    }
}
