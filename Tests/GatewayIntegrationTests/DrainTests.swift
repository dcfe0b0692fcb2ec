import AsyncHTTPClient
import Foundation
import GatewayCore
import NIOCore
import NIOHTTP1
import Testing

/// SIGTERM on the real binary: requests in flight finish, within `drain_timeout`.
@Suite("Graceful drain on SIGTERM", .timeLimit(.minutes(2)))
struct DrainTests {
    /// Sends `count` slow requests at once and SIGTERM while they are in flight; returns their
    /// outcomes, how the gateway exited and how long it took to.
    static func slowRequestsThenTerm(count: Int, slowMilliseconds: Int, drainTimeout: String) async throws
        -> (statuses: [String], exit: GatewayProcess.Exit, seconds: Double)
    {
        try await TestUpstream.with { upstream in
            let directory = try Fixtures.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let config = try writeConfig(in: directory, upstreamPort: upstream.port, extraServer: "drain_timeout = \"\(drainTimeout)\"")
            let gateway = try await GatewayProcess.start(configPath: config)
            let url = "https://localhost:\(gateway.port)/slow?ms=\(slowMilliseconds)"
            return try await AuditShutdownTests.withClient { client in
                try await withThrowingTaskGroup(of: String.self) { group in
                    for _ in 0..<count {
                        group.addTask {
                            do {
                                let response = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(30))
                                _ = try await response.body.collect(upTo: 1 << 16)
                                return "\(response.status.code)"
                            } catch {
                                return "failed"
                            }
                        }
                    }
                    // SIGTERM only once every request has reached the upstream: they are in flight.
                    let deadline = ContinuousClock.now + .seconds(20)
                    while upstream.requestsSeen < count, ContinuousClock.now < deadline {
                        try await Task.sleep(for: .milliseconds(20))
                    }
                    let start = ContinuousClock.now
                    let exit = await gateway.terminate()
                    let elapsed = start.duration(to: .now)
                    var statuses: [String] = []
                    for try await status in group { statuses.append(status) }
                    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                    return (statuses, exit, seconds)
                }
            }
        }
    }

    @Test("requests in flight at SIGTERM all finish, then the gateway exits 0")
    func inFlightFinish() async throws {
        let outcome = try await Self.slowRequestsThenTerm(count: 5, slowMilliseconds: 3_500, drainTimeout: "10s")
        #expect(outcome.statuses == Array(repeating: "200", count: 5))
        #expect(outcome.exit == .success)
    }

    @Test("a request still running at drain_timeout is cut, and the gateway exits soon after")
    func drainTimeout() async throws {
        let outcome = try await Self.slowRequestsThenTerm(count: 1, slowMilliseconds: 10_000, drainTimeout: "1s")
        #expect(outcome.statuses == ["failed"])
        #expect(outcome.exit == .success)
        #expect(outcome.seconds < 5, "exited \(outcome.seconds) s after SIGTERM")
    }
}
