import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import Synchronization

/// Clients on several keep-alive connections sending, until told to stop, a request the gateway
/// refuses with 401 and audits; counts the refusals they actually received.
final class RefusedRequestLoad: Sendable {
    private let url: String
    private let connections: Int
    private let refusals = Atomic<Int>(0)
    private let otherAnswers = Atomic<Int>(0)
    private let failures = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)

    init(url: String, connections: Int) {
        self.url = url
        self.connections = connections
    }

    /// 401 answers received so far.
    var refused: Int { refusals.load(ordering: .acquiring) }
    /// Answers with any other status.
    var otherStatuses: Int { otherAnswers.load(ordering: .acquiring) }
    /// Requests that got no answer head (refused connections, resets, time-outs).
    var failed: Int { failures.load(ordering: .acquiring) }

    /// Sends requests on `connections` concurrent connections of `client` until ``stop()``.
    func run(_ client: HTTPClient) async {
        await withDiscardingTaskGroup { group in
            for _ in 0..<connections {
                group.addTask { await self.send(client) }
            }
        }
    }

    func stop() { stopping.store(true, ordering: .releasing) }

    /// Returns once `count` refusals have been received, or throws after `timeout`.
    func waitForRefusals(_ count: Int, timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        while refused < count {
            guard ContinuousClock.now < deadline else {
                throw LoadTimeout(refused: refused, otherStatuses: otherStatuses, failed: failed)
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    private func send(_ client: HTTPClient) async {
        while !stopping.load(ordering: .acquiring) {
            do {
                // Counted on the head: the gateway wrote a 401, so it had made (and audited) the decision.
                let response = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(10))
                if response.status == .unauthorized {
                    refusals.add(1, ordering: .releasing)
                } else {
                    otherAnswers.add(1, ordering: .releasing)
                }
                _ = try? await response.body.collect(upTo: 64 * 1024)
            } catch {
                failures.add(1, ordering: .releasing)
                // Once the gateway is gone every attempt fails at once: do not spin.
                try? await Task.sleep(for: .milliseconds(5))
            }
        }
    }
}

struct LoadTimeout: Error, CustomStringConvertible {
    let refused: Int
    let otherStatuses: Int
    let failed: Int
    var description: String {
        "too few refusals in time: \(refused) refusals, \(otherStatuses) other answers, \(failed) failed requests"
    }
}
