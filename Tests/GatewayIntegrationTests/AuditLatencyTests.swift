import Foundation
import GatewayCore
import GatewayTestSupport
import NIOHTTP1
import Testing

/// Audit writes happen behind the request path: a store that stalls in a write costs the
/// requests that are audited nothing they would notice, and loses none of their events.
@Suite("Audit latency", .timeLimit(.minutes(2)))
struct AuditLatencyTests {
    static let routes = [RouteConfig(path: "/users", upstream: "test")]
    static let warmUpRequests = 10
    static let measuredRequests = 200

    @Test("the request path keeps its latency when the disk is slow")
    func slowDisk() async throws {
        let slowStore = try ControlledStore()
        slowStore.holdAppends(true)  // a write that stalls until the requests are done, however long they take
        try await TestUpstream.with { upstream in
            let config = GatewayHarness.config(upstreams: ["test": upstream.port], routes: Self.routes)
            try await GatewayHarness.with(config) { fast in
                try await GatewayHarness.with(config, store: slowStore) { slow in
                    try await measure(fast: fast, slow: slow, slowStore: slowStore)
                }
            }
        }
    }

    /// Sends the same audited request to both gateways in turn, so that both see the same load on
    /// the machine, while the slow store sits in a write; then checks every event arrives.
    func measure(fast: GatewayHarness, slow: GatewayHarness, slowStore: ControlledStore) async throws {
        defer { slowStore.holdAppends(false) }
        for _ in 0..<Self.warmUpRequests {
            #expect(try await fast.timedGET("/users/me").status == .unauthorized)
            #expect(try await slow.timedGET("/users/me").status == .unauthorized)
        }
        try await waitForFirstAppend(slowStore)
        var fastLatencies: [Duration] = []
        var slowLatencies: [Duration] = []
        var slowRefusals = Self.warmUpRequests
        for _ in 0..<Self.measuredRequests {
            fastLatencies.append(try await fast.timedGET("/users/me").latency)
            let answer = try await slow.timedGET("/users/me")
            slowLatencies.append(answer.latency)
            if answer.status == .unauthorized { slowRefusals += 1 }
        }
        // A request that waited for the store would never have been answered: its first write is still held.
        #expect(slowStore.appendsStarted == 1 && slowStore.appendedBatchSizes.isEmpty, "the store's first write was not held")
        #expect(slow.recorder.queueDepth > 0)
        slowStore.holdAppends(false)

        let fastMedian = Self.median(fastLatencies)
        let slowMedian = Self.median(slowLatencies)
        #expect(slowMedian < fastMedian * 3 + .milliseconds(20), "median \(slowMedian) with the slow store, \(fastMedian) without")

        #expect(slowRefusals == Self.warmUpRequests + Self.measuredRequests)
        await slow.recorder.flush()
        let stored = try await slowStore.base.auditStats(since: .distantPast)
        #expect(stored.countsByType[.authMissing] == slowRefusals)
        #expect(stored.total == slowRefusals)
        #expect(slow.recorder.droppedEvents == 0)
    }

    /// Returns once the slow store has begun a write, so that the measured requests overlap it.
    func waitForFirstAppend(_ store: ControlledStore) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while store.appendsStarted == 0 {
            try #require(ContinuousClock.now < deadline, "the recorder never wrote to the slow store")
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    static func median(_ values: [Duration]) -> Duration {
        values.sorted()[values.count / 2]
    }
}
