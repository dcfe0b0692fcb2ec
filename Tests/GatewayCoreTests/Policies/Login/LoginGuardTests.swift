import Foundation
import NIOCore
import Synchronization
import Testing

@testable import GatewayCore

/// A clock the test moves by hand.
private final class TestClock: Sendable {
    private let start = ContinuousClock.now
    private let elapsed = Mutex(Duration.zero)

    var now: ContinuousClock.Instant { start + elapsed.withLock { $0 } }

    func advance(_ duration: Duration) { elapsed.withLock { $0 += duration } }
}

@Suite("Login guard: failed-login counters and locks")
struct LoginGuardTests {
    private let clock = TestClock()

    private func makeGuard(
        perClient: Int = 3, perUsername: Int = 5, window: Duration = .seconds(600), cooldown: Duration = .seconds(900),
        capacity: Int = LoginGuard.defaultCapacity
    ) -> LoginGuard {
        let clock = self.clock
        return LoginGuard(
            config: LoginProtectionConfig(
                maxFailuresPerClient: perClient, maxFailuresPerUsername: perUsername, window: window, cooldown: cooldown),
            capacity: capacity, now: { clock.now })
    }

    private func keys(_ client: String, _ username: String? = "alice") -> LoginKeys {
        LoginKeys(clientAddress: client, username: username)
    }

    private func fail(_ loginGuard: LoginGuard, _ keys: LoginKeys, times: Int) {
        for _ in 0..<times { loginGuard.recordFailure(keys) }
    }

    @Test("locks a client address after its threshold of failures, and only that address")
    func locksClient() {
        let loginGuard = makeGuard()
        fail(loginGuard, keys("192.0.2.1"), times: 2)
        #expect(loginGuard.refusal(for: keys("192.0.2.1")) == nil)
        loginGuard.recordFailure(keys("192.0.2.1"))
        #expect(loginGuard.refusal(for: keys("192.0.2.1")) == .init(key: .client, retryAfterSeconds: 900, isFirst: true))
        #expect(loginGuard.refusal(for: keys("192.0.2.1", nil))?.key == .client)
        #expect(loginGuard.refusal(for: keys("192.0.2.2")) == nil)
    }

    @Test("shares failures and successes with another gateway's guard, which counts them at their time")
    func sharesOutcomes() throws {
        let (first, second) = (makeGuard(), makeGuard())
        fail(first, keys("192.0.2.1"), times: 2)
        let shared = first.takeShared()
        #expect(shared.map(\.kind) == [.client, .username, .client, .username])
        #expect(shared.allSatisfy(\.failed) && !shared.contains { $0.key == "alice" })
        #expect(first.takeShared().isEmpty)
        second.applyShared(shared)
        #expect(second.refusal(for: keys("192.0.2.1")) == nil)
        second.recordFailure(keys("192.0.2.1"))
        #expect(second.refusal(for: keys("192.0.2.1"))?.key == .client, "2 failures there and 1 here lock the address")
        #expect(first.refusal(for: keys("192.0.2.1")) == nil, "until the first guard hears of it")
        first.applyShared(second.takeShared())
        #expect(first.refusal(for: keys("192.0.2.1"))?.key == .client)

        // A success elsewhere clears the username's failures here; a failure older than the window counts for nothing.
        let (third, fourth) = (makeGuard(perUsername: 2), makeGuard(perUsername: 2))
        third.recordFailure(keys("192.0.2.7"))
        third.recordSuccess(keys("192.0.2.8"))
        let username = try #require(keys("192.0.2.7").username)
        let old = LoginEvent(kind: .username, key: username, time: Date().addingTimeInterval(-700), failed: true)
        fourth.applyShared(third.takeShared() + [old])
        fourth.recordFailure(keys("192.0.2.9"))
        #expect(fourth.refusal(for: keys("192.0.2.9")) == nil)
    }

    @Test("keeps at most sharedCapacity unshared outcomes, the newest, and puts back what the store did not take in front")
    func sharedOutcomesAreBounded() {
        let loginGuard = makeGuard(perClient: 0, perUsername: 0)
        fail(loginGuard, keys("192.0.2.1", nil), times: LoginGuard.sharedCapacity + 5)
        let taken = loginGuard.takeShared()
        #expect(taken.count == LoginGuard.sharedCapacity)
        loginGuard.recordFailure(keys("192.0.2.2", nil))
        loginGuard.requeueShared(taken)
        let again = loginGuard.takeShared()
        #expect(again.count == LoginGuard.sharedCapacity)
        #expect(again.last?.key == "192.0.2.2")
    }

    @Test("locks a username after its threshold of failures from any addresses")
    func locksUsername() {
        let loginGuard = makeGuard()
        for address in ["192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4", "192.0.2.5"] {
            #expect(loginGuard.refusal(for: keys(address)) == nil)
            loginGuard.recordFailure(keys(address))
        }
        #expect(loginGuard.refusal(for: keys("198.51.100.7")) == .init(key: .username, retryAfterSeconds: 900, isFirst: true))
        #expect(loginGuard.refusal(for: keys("198.51.100.7", "bob")) == nil)
        #expect(loginGuard.refusal(for: keys("198.51.100.7", "ALICE"))?.key == .username)
    }

    @Test("marks only the first refusal of a lock, for the audit trail")
    func firstRefusalOnly() {
        let loginGuard = makeGuard()
        fail(loginGuard, keys("192.0.2.1"), times: 3)
        #expect(loginGuard.refusal(for: keys("192.0.2.1"))?.isFirst == true)
        #expect(loginGuard.refusal(for: keys("192.0.2.1"))?.isFirst == false)
        #expect(loginGuard.refusal(for: keys("192.0.2.1"))?.isFirst == false)
    }

    @Test("counts only failures within the sliding window")
    func slidingWindow() {
        let loginGuard = makeGuard()
        let client = keys("192.0.2.1", nil)
        loginGuard.recordFailure(client)  // t = 0
        clock.advance(.seconds(360))
        loginGuard.recordFailure(client)  // t = 6m
        clock.advance(.seconds(360))
        loginGuard.recordFailure(client)  // t = 12m: the first has left the 10m window
        #expect(loginGuard.refusal(for: client) == nil)
        clock.advance(.seconds(60))
        loginGuard.recordFailure(client)  // t = 13m: 6m, 12m and 13m are within it
        #expect(loginGuard.refusal(for: client)?.key == .client)
    }

    @Test("ends a lock after its cooldown, counting Retry-After down in whole seconds")
    func cooldownExpiry() {
        let loginGuard = makeGuard()
        let client = keys("192.0.2.1", nil)
        fail(loginGuard, client, times: 3)
        clock.advance(.milliseconds(899_500))
        #expect(loginGuard.refusal(for: client)?.retryAfterSeconds == 1)
        clock.advance(.milliseconds(500))
        #expect(loginGuard.refusal(for: client) == nil)
        loginGuard.recordFailure(client)
        #expect(loginGuard.refusal(for: client) == nil, "the failures before the lock do not count again")
        fail(loginGuard, client, times: 2)
        #expect(loginGuard.refusal(for: client) == .init(key: .client, retryAfterSeconds: 900, isFirst: true))
    }

    @Test("a failure that was in flight when the lock began does not extend it")
    func failureDuringLock() {
        let loginGuard = makeGuard()
        let client = keys("192.0.2.1", nil)
        fail(loginGuard, client, times: 3)
        clock.advance(.seconds(600))
        loginGuard.recordFailure(client)
        #expect(loginGuard.refusal(for: client)?.retryAfterSeconds == 300)
    }

    @Test("a success forgets the username's failures but not the client's")
    func successResetsUsernameOnly() {
        let loginGuard = makeGuard(perClient: 3, perUsername: 3)
        fail(loginGuard, keys("192.0.2.1"), times: 2)
        loginGuard.recordSuccess(keys("192.0.2.1"))
        loginGuard.recordFailure(keys("192.0.2.2"))
        #expect(loginGuard.refusal(for: keys("192.0.2.2")) == nil, "alice's count started again")
        loginGuard.recordFailure(keys("192.0.2.1", "mallory"))
        #expect(loginGuard.refusal(for: keys("192.0.2.1", "mallory"))?.key == .client, "the address's count did not")
    }

    @Test("a threshold of 0 turns that lock off")
    func disabledLock() {
        let loginGuard = makeGuard(perClient: 0, perUsername: 2)
        fail(loginGuard, keys("192.0.2.1", nil), times: 50)
        #expect(loginGuard.refusal(for: keys("192.0.2.1", nil)) == nil)
        #expect(loginGuard.counts.clients == 0)
        fail(loginGuard, keys("192.0.2.1"), times: 2)
        #expect(loginGuard.refusal(for: keys("192.0.2.1"))?.key == .username)
    }

    @Test("keys an IPv6 client by its /64, an IPv4 or IPv4-mapped client by its address")
    func clientKeys() {
        #expect(LoginKeys.clientKey("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64")
        #expect(LoginKeys.clientKey("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64")
        #expect(LoginKeys.clientKey("192.0.2.1") == "192.0.2.1")
        #expect(LoginKeys.clientKey("::ffff:192.0.2.1") == "::ffff:192.0.2.1")
        #expect(LoginKeys.clientKey("unknown") == "unknown")
    }

    @Test("keeps a username only as the fingerprint of its lower-cased form")
    func usernameFingerprint() {
        let key = LoginKeys(clientAddress: "192.0.2.1", username: "Alice")
        #expect(key.username == UsernameFingerprint.test.of("alice"))
        #expect(LoginKeys(clientAddress: "192.0.2.1", username: "").username == nil)
    }
}

@Suite("Failure table: bounded size")
struct FailureTableTests {
    private let start = ContinuousClock.now

    private func table(capacity: Int) -> FailureTable {
        FailureTable(maxFailures: 2, window: .seconds(60), cooldown: .seconds(60), capacity: capacity)
    }

    @Test("never holds more keys than its capacity, evicting the least recently failed")
    func evictsOldest() {
        var table = table(capacity: 3)
        for (offset, key) in ["a", "b", "c"].enumerated() { table.recordFailure(key, now: start + .seconds(offset)) }
        table.recordFailure("a", now: start + .seconds(3))  // a locks, and is now the most recent
        table.recordFailure("d", now: start + .seconds(4))
        #expect(table.count == 3)
        #expect(table.check("a", now: start + .seconds(5)) != .open)
        table.recordFailure("b", now: start + .seconds(6))
        #expect(table.check("b", now: start + .seconds(6)) == .open, "b was evicted, so this is its first failure")
    }

    @Test("evicts spent keys before live ones")
    func evictsSpentFirst() {
        var table = table(capacity: 3)
        table.recordFailure("old", now: start)
        table.recordFailure("locked", now: start + .seconds(100))
        table.recordFailure("locked", now: start + .seconds(100))
        table.recordFailure("recent", now: start + .seconds(100))
        table.recordFailure("new", now: start + .seconds(110))  // "old" left the window at 60s
        #expect(table.count == 3)
        #expect(table.check("locked", now: start + .seconds(110)) != .open)
        table.recordFailure("recent", now: start + .seconds(111))
        #expect(table.check("recent", now: start + .seconds(111)) != .open, "recent kept its first failure")
    }

    @Test("never evicts a lock: a flood of new keys cannot lift it")
    func keepsLocks() {
        var table = table(capacity: 3)
        table.recordFailure("victim-lock", now: start)
        table.recordFailure("victim-lock", now: start)
        for index in 0..<1_000 { table.recordFailure("flood-\(index)", now: start + .milliseconds(index)) }
        #expect(table.check("victim-lock", now: start + .seconds(2)) != .open)
        #expect(table.count == 3, "unlocked keys are still evicted to make room")
    }

    @Test("stays bounded under a flood of distinct keys")
    func flood() {
        var table = table(capacity: 1000)
        for index in 0..<20_000 { table.recordFailure("client-\(index)", now: start + .milliseconds(index)) }
        #expect(table.count == 1000)
        #expect(table.check("client-19999", now: start + .seconds(20)) == .open)
        table.recordFailure("client-19999", now: start + .seconds(20))
        #expect(table.check("client-19999", now: start + .seconds(20)) != .open)
    }

    @Test("forgets a key once its lock and failures have expired")
    func forgetsSpentKeys() {
        var table = table(capacity: 10)
        table.recordFailure("a", now: start)
        #expect(table.count == 1)
        #expect(table.check("a", now: start + .seconds(60)) == .open)
        #expect(table.count == 0)
    }
}

@Suite("Login attempts in flight")
struct LoginInFlightTests {
    let loginGuard = LoginGuard(
        config: LoginProtectionConfig(maxFailuresPerClient: 5, maxFailuresPerUsername: 10, window: .seconds(60), cooldown: .seconds(60)))

    @Test("a client or username has at most two attempts in flight; a finished one frees its place")
    func cap() {
        let keys = LoginKeys(clientAddress: "192.0.2.1", username: "alice")
        #expect(loginGuard.admit(keys) == nil)
        #expect(loginGuard.admit(keys) == nil)
        #expect(loginGuard.admit(keys)?.key == .client)
        #expect(loginGuard.admit(LoginKeys(clientAddress: "192.0.2.2", username: "alice"))?.key == .username)
        #expect(loginGuard.admit(LoginKeys(clientAddress: "192.0.2.2", username: "bob")) == nil)
        loginGuard.finish(keys)
        #expect(loginGuard.admit(keys) == nil)
    }

    @Test("an attempt stops counting in flight when it goes away, however its exchange ended")
    func releasedOnDeinit() throws {
        do {
            let attempt = LoginAttempt(clientAddress: "192.0.2.9")
            _ = try attempt.completeBody(ByteBuffer(string: #"{"username":"dave","password":"x"}"#), fingerprint: .test)
            #expect(attempt.admit(by: loginGuard) == nil)
            #expect(loginGuard.attemptsInFlight == 2)
        }
        #expect(loginGuard.attemptsInFlight == 0)
    }
}
