import Foundation
import Synchronization
import Testing

@testable import GatewayCore

@Suite("Rate limiter: GCRA counters")
struct RateLimiterTests {
    static let second: Int64 = 1_000_000_000
    let start: Int64 = 1_800_000_000 * RateLimiterTests.second
    let perHour = RateLimitPolicy(RatePolicyConfig(limit: 50, period: .hour), scope: "test")

    func check(_ limiter: RateLimiter, _ policies: [RateLimitPolicy], key: String = "ip:192.0.2.1", at time: Int64)
        -> [RateLimiter.Verdict]
    {
        limiter.check(policies, keys: Array(repeating: key, count: policies.count), now: time)
    }

    @Test("with 50/hour the 50th request passes and the 51st is refused, retrying after 72 s")
    func exactBoundary() {
        let limiter = RateLimiter(maxKeys: 1_000)
        for index in 1...50 {
            let verdict = check(limiter, [perHour], at: start)[0]
            #expect(verdict.outcome.admitted, "request \(index)")
            #expect(verdict.outcome.remaining == 50 - index)
        }
        let refused = check(limiter, [perHour], at: start)[0]
        #expect(!refused.outcome.admitted)
        #expect(refused.outcome.remaining == 0)
        #expect(refused.outcome.retryAfter == 72 * Self.second)
        #expect(refused.outcome.reset == 3_600 * Self.second)
    }

    @Test("the window slides: one request comes back every period / limit, the whole quota after a period")
    func slides() {
        let limiter = RateLimiter(maxKeys: 1_000)
        for _ in 1...50 { _ = check(limiter, [perHour], at: start) }
        #expect(!check(limiter, [perHour], at: start + 71 * Self.second)[0].outcome.admitted)
        #expect(check(limiter, [perHour], at: start + 72 * Self.second)[0].outcome.admitted)
        #expect(!check(limiter, [perHour], at: start + 72 * Self.second)[0].outcome.admitted)
        let later = start + 3_672 * Self.second
        for index in 1...50 { #expect(check(limiter, [perHour], at: later)[0].outcome.admitted, "request \(index)") }
        #expect(!check(limiter, [perHour], at: later)[0].outcome.admitted)
    }

    @Test("keys are counted apart")
    func separateKeys() {
        let limiter = RateLimiter(maxKeys: 1_000)
        let tiny = RateLimitPolicy(RatePolicyConfig(limit: 1, period: .minute), scope: "test")
        #expect(check(limiter, [tiny], key: "ip:192.0.2.1", at: start)[0].outcome.admitted)
        #expect(!check(limiter, [tiny], key: "ip:192.0.2.1", at: start)[0].outcome.admitted)
        #expect(check(limiter, [tiny], key: "ip:192.0.2.2", at: start)[0].outcome.admitted)
    }

    @Test("a request one policy refuses consumes nothing of the others")
    func refusalGivesBack() {
        let limiter = RateLimiter(maxKeys: 1_000)
        let daily = RateLimitPolicy(RatePolicyConfig(limit: 3, period: .day), scope: "test")
        let perMinute = RateLimitPolicy(RatePolicyConfig(limit: 1, period: .minute), scope: "test")
        #expect(check(limiter, [daily, perMinute], at: start).allSatisfy { $0.outcome.admitted })
        for _ in 0..<10 { _ = check(limiter, [daily, perMinute], at: start) }
        let next = check(limiter, [daily, perMinute], at: start + 60 * Self.second)
        #expect(next.allSatisfy { $0.outcome.admitted }, "the ten refused requests used none of the daily quota")
        #expect(next[0].outcome.remaining == 1)
    }

    @Test("a shadow policy counts and reports its refusals, and never refuses")
    func shadow() {
        let limiter = RateLimiter(maxKeys: 1_000)
        let shadow = RateLimitPolicy(RatePolicyConfig(limit: 1, period: .minute, mode: .shadow), scope: "test")
        let enforced = RateLimitPolicy(RatePolicyConfig(limit: 100, period: .minute, key: .ip), scope: "test")
        _ = check(limiter, [shadow, enforced], at: start)
        let verdicts = check(limiter, [shadow, enforced], at: start)
        #expect(!verdicts[0].outcome.admitted)
        #expect(verdicts[1].outcome.admitted, "the enforced policy still counts the request")
        #expect(verdicts[1].outcome.remaining == 98)
    }

    @Test("the first refusal of a counter in a window is audited, then one in every 100")
    func auditSampling() {
        let limiter = RateLimiter(maxKeys: 1_000)
        let tiny = RateLimitPolicy(RatePolicyConfig(limit: 1, period: .minute), scope: "test")
        _ = check(limiter, [tiny], at: start)
        let refusals = (0..<201).map { _ in check(limiter, [tiny], at: start)[0] }
        #expect(refusals.enumerated().filter(\.element.audited).map(\.offset) == [0, 100, 200])
        #expect(refusals[100].skippedAudits == 99)
        // The next window (after 60 s the counter admits once, then refuses again) audits anew.
        _ = check(limiter, [tiny], at: start + 120 * Self.second)
        #expect(check(limiter, [tiny], at: start + 120 * Self.second)[0].audited)
    }

    @Test("stays within max_keys, evicting the least recently used counters and counting them")
    func bounded() {
        let limiter = RateLimiter(maxKeys: 1_600)
        for index in 0..<10_000 { _ = check(limiter, [perHour], key: "ip:10.0.\(index / 256).\(index % 256)", at: start) }
        #expect(limiter.count <= 1_600)
        #expect(limiter.evictions == 10_000 - limiter.count)
    }

    @Test("a flood of new keys evicts its own fresh counters, not an exhausted one that went quiet")
    func floodKeepsExhaustedCounters() {
        let limiter = RateLimiter(maxKeys: 1_600)
        for _ in 1...50 { _ = check(limiter, [perHour], key: "sub:victim", at: start) }
        #expect(!check(limiter, [perHour], key: "sub:victim", at: start)[0].admitted)
        for index in 0..<20_000 {
            _ = check(limiter, [perHour], key: "ip:10.\(index / 65_536).\(index / 256 % 256).\(index % 256)", at: start)
        }
        #expect(limiter.evictions >= 18_000, "the flood filled every shard many times over")
        #expect(!check(limiter, [perHour], key: "sub:victim", at: start)[0].admitted, "still exhausted after the flood")
    }

    @Test("counters back at their full quota are swept out")
    func sweep() {
        let limiter = RateLimiter(maxKeys: 1_000)
        _ = check(limiter, [perHour], at: start)
        limiter.sweep(now: start + 71 * Self.second)
        #expect(limiter.count == 1)
        limiter.sweep(now: start + 72 * Self.second)
        #expect(limiter.count == 0)
    }

    @Test("many threads on one counter never over-admit")
    func concurrent() {
        let limiter = RateLimiter(maxKeys: 1_000)
        let policy = RateLimitPolicy(RatePolicyConfig(limit: 1_000, period: .hour), scope: "test")
        let admitted = Atomic(0)
        let start = self.start
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            for _ in 0..<1_000 where limiter.check([policy], keys: ["ip:192.0.2.1"], now: start)[0].outcome.admitted {
                admitted.add(1, ordering: .relaxed)
            }
        }
        #expect(admitted.load(ordering: .relaxed) == 1_000)
    }

    @Test("changed counters are handed over once, restore brings them back, and a reset forgets a key")
    func persistence() {
        let limiter = RateLimiter(maxKeys: 1_000)
        for _ in 0..<3 { _ = check(limiter, [perHour], at: start) }
        _ = check(limiter, [perHour], key: "ip:192.0.2.9", at: start)
        let changed = limiter.takeChanged().sorted { $0.key < $1.key }
        #expect(changed.map(\.key) == ["ip:192.0.2.1", "ip:192.0.2.9"])
        #expect(changed[0].tat == start + 3 * 72 * Self.second)
        #expect(limiter.takeChanged().isEmpty)

        let restarted = RateLimiter(maxKeys: 1_000)
        restarted.merge(changed, now: start)
        #expect(check(restarted, [perHour], at: start)[0].outcome.remaining == 46)
        restarted.reset(key: "ip:192.0.2.1")
        #expect(check(restarted, [perHour], at: start)[0].outcome.remaining == 49)
        #expect(check(restarted, [perHour], key: "ip:192.0.2.9", at: start)[0].outcome.remaining == 48)
    }

    @Test("merging the fleet's counter keeps what this node spent since its flush on top")
    func mergeKeepsUnflushedShare() {
        let limiter = RateLimiter(maxKeys: 1_000)
        _ = check(limiter, [perHour], at: start)
        let flushed = limiter.takeChanged()
        #expect(flushed.map(\.spent) == [72 * Self.second])
        _ = check(limiter, [perHour], at: start)  // after the flush: not in the store yet
        // The store answers with the fleet's total: this node's first request plus 10 of other nodes.
        limiter.merge([RateLimitCounter(policy: perHour.id, key: "ip:192.0.2.1", tat: start + 11 * 72 * Self.second)], now: start)
        #expect(check(limiter, [perHour], at: start)[0].outcome.remaining == 50 - 13)
        #expect(limiter.takeChanged().map(\.spent) == [2 * 72 * Self.second])
    }

    @Test("counters a failed flush took are written at the next one, with everything they spent")
    func requeueAfterFailedFlush() {
        let limiter = RateLimiter(maxKeys: 1_000)
        _ = check(limiter, [perHour], at: start)
        let failed = limiter.takeChanged()
        _ = check(limiter, [perHour], at: start)
        limiter.requeue(failed)
        #expect(limiter.takeChanged().map(\.spent) == [2 * 72 * Self.second])
    }
}
