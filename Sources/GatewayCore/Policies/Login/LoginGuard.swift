import Foundation
import Synchronization

/// Brute-force protection for `login = true` routes: counts the upstream's 401 answers per client
/// address and per username, and refuses further attempts from an address, or for a username, that
/// failed too often within the window, until its cooldown ends.
///
/// Shared by every event loop (an attacker's connections land on all of them), so the counters sit
/// behind two small `Mutex`es, each held for a few dictionary operations. Both tables are bounded.
/// One guard outlives config reloads, so that a reload lifts no lock.
///
/// With a store several gateways share, each failure and success is also kept for
/// ``takeShared()``, and the other gateways' come in through ``applyShared(_:)``: a client that
/// spreads its guesses over the fleet is counted as on one gateway, late by at most a sync.
public final class LoginGuard: Sendable {
    /// Keys each table remembers at most.
    static let defaultCapacity = 100_000

    /// Events kept for the store at most while it cannot be reached; beyond, the oldest go (this
    /// gateway still counts them).
    static let sharedCapacity = 10_000

    /// Attempts one client, or one username, may have in flight at once. Failures are only known
    /// when the upstream answers, so without this cap N parallel guesses would all pass the check
    /// before the first failure is counted.
    static let maximumInFlight = 2

    /// Which lock refused an attempt.
    enum LockedKey: Equatable, Sendable {
        case client
        case username
    }

    /// An attempt refused because its client or username is locked.
    struct Refusal: Equatable, Sendable {
        let key: LockedKey
        /// Whole seconds until the lock ends, at least 1: the `Retry-After` value.
        let retryAfterSeconds: Int
        /// True for the first refusal of a lock only: the audit trail records one per key per cooldown.
        let isFirst: Bool
    }

    private let clients: Mutex<FailureTable>
    private let usernames: Mutex<FailureTable>
    /// Attempts admitted and not yet finished, by `c:` client or `u:` username key.
    private let inFlight = Mutex<[String: Int]>([:])
    /// Outcomes not yet shared with the other gateways, oldest first.
    private let unshared = Mutex<[LoginEvent]>([])
    private let now: @Sendable () -> ContinuousClock.Instant
    private let wallClock: @Sendable () -> Date

    /// A guard with the thresholds of `config`.
    public convenience init(config: LoginProtectionConfig) {
        self.init(config: config, capacity: Self.defaultCapacity)
    }

    init(
        config: LoginProtectionConfig,
        capacity: Int = defaultCapacity,
        now: @escaping @Sendable () -> ContinuousClock.Instant = { .now },
        wallClock: @escaping @Sendable () -> Date = { Date() }
    ) {
        clients = Mutex(
            FailureTable(maxFailures: config.maxFailuresPerClient, window: config.window, cooldown: config.cooldown, capacity: capacity))
        usernames = Mutex(
            FailureTable(maxFailures: config.maxFailuresPerUsername, window: config.window, cooldown: config.cooldown, capacity: capacity))
        self.now = now
        self.wallClock = wallClock
    }

    /// Takes up a reloaded config's thresholds, window and cooldown, keeping every failure counted
    /// and every lock in force.
    func apply(_ config: LoginProtectionConfig) {
        clients.withLock { ($0.maxFailures, $0.window, $0.cooldown) = (config.maxFailuresPerClient, config.window, config.cooldown) }
        usernames.withLock { ($0.maxFailures, $0.window, $0.cooldown) = (config.maxFailuresPerUsername, config.window, config.cooldown) }
    }

    /// Why an attempt must be refused now, or `nil` when it may go upstream. The client's lock is
    /// checked first; the username's only when the body named one.
    func refusal(for keys: LoginKeys) -> Refusal? {
        let now = now()
        if let refusal = Self.refusal(.client, clients.withLock { $0.check(keys.client, now: now) }) {
            return refusal
        }
        guard let username = keys.username else { return nil }
        return Self.refusal(.username, usernames.withLock { $0.check(username, now: now) })
    }

    /// Refuses the attempt while its client or username is locked or already has
    /// ``maximumInFlight`` attempts under way; otherwise counts it in flight until ``finish(_:)``.
    func admit(_ keys: LoginKeys) -> Refusal? {
        if let refusal = refusal(for: keys) { return refusal }
        let counters = Self.inFlightKeys(keys)
        let admitted = inFlight.withLock { inFlight in
            guard let busy = counters.first(where: { inFlight[$0.key, default: 0] >= Self.maximumInFlight }) else {
                for counter in counters { inFlight[counter.key, default: 0] += 1 }
                return Refusal?.none
            }
            return Refusal(key: busy.lock, retryAfterSeconds: 1, isFirst: false)
        }
        return admitted
    }

    /// An admitted attempt is over (answered, failed or abandoned).
    func finish(_ keys: LoginKeys) {
        inFlight.withLock { inFlight in
            for counter in Self.inFlightKeys(keys) {
                let left = inFlight[counter.key, default: 1] - 1
                inFlight[counter.key] = left > 0 ? left : nil
            }
        }
    }

    /// Attempts in flight now, all keys together (for tests).
    var attemptsInFlight: Int { inFlight.withLock { $0.values.reduce(0, +) } }

    private static func inFlightKeys(_ keys: LoginKeys) -> [(key: String, lock: LockedKey)] {
        [("c:" + keys.client, .client)] + (keys.username.map { [("u:" + $0, .username)] } ?? [])
    }

    /// The upstream refused the credentials: counts a failure against the client and the username.
    func recordFailure(_ keys: LoginKeys) {
        let now = now()
        clients.withLock { _ = $0.recordFailure(keys.client, now: now) }
        var events = [LoginEvent(kind: .client, key: keys.client, time: wallClock(), failed: true)]
        if let username = keys.username {
            usernames.withLock { _ = $0.recordFailure(username, now: now) }
            events.append(LoginEvent(kind: .username, key: username, time: events[0].time, failed: true))
        }
        share(events)
    }

    /// The upstream accepted the credentials: the username's failures are forgotten.
    ///
    /// The client's are kept: otherwise an attacker could log into an account of their own between
    /// guesses at someone else's and never be locked.
    func recordSuccess(_ keys: LoginKeys) {
        guard let username = keys.username else { return }
        let now = now()
        usernames.withLock { $0.clearFailures(username, now: now) }
        share([LoginEvent(kind: .username, key: username, time: wallClock(), failed: false)])
    }

    private func share(_ events: [LoginEvent]) {
        unshared.withLock { unshared in
            unshared.append(contentsOf: events)
            if unshared.count > Self.sharedCapacity { unshared.removeFirst(unshared.count - Self.sharedCapacity) }
        }
    }

    /// The outcomes recorded here since the last call, for the store.
    func takeShared() -> [LoginEvent] {
        unshared.withLock { unshared in
            defer { unshared = [] }
            return unshared
        }
    }

    /// Gives back outcomes ``takeShared()`` returned that the store did not take.
    func requeueShared(_ events: [LoginEvent]) {
        guard !events.isEmpty else { return }
        unshared.withLock { unshared in
            unshared.insert(contentsOf: events, at: 0)
            if unshared.count > Self.sharedCapacity { unshared.removeFirst(unshared.count - Self.sharedCapacity) }
        }
    }

    /// Counts other gateways' outcomes as if they had happened here, at their time.
    func applyShared(_ events: [LoginEvent]) {
        let (now, wallNow) = (now(), wallClock())
        for event in events {
            let age = Duration.milliseconds(max(0, Int64((wallNow.timeIntervalSince(event.time) * 1000).rounded())))
            switch event.kind {
            case .client: clients.withLock { Self.apply(event, at: now - age, to: &$0, now: now) }
            case .username: usernames.withLock { Self.apply(event, at: now - age, to: &$0, now: now) }
            }
        }
    }

    private static func apply(
        _ event: LoginEvent, at instant: ContinuousClock.Instant, to table: inout FailureTable, now: ContinuousClock.Instant
    ) {
        if event.failed {
            table.recordFailure(event.key, now: instant)
        } else {
            table.clearFailures(event.key, now: now)
        }
    }

    /// Keys remembered now, per table (for tests).
    var counts: (clients: Int, usernames: Int) {
        (clients.withLock { $0.count }, usernames.withLock { $0.count })
    }

    private static func refusal(_ key: LockedKey, _ status: FailureTable.Status) -> Refusal? {
        guard case .locked(let retryAfter, let first) = status else { return nil }
        let (seconds, attoseconds) = retryAfter.components
        let rounded = Int(seconds) + (attoseconds > 0 ? 1 : 0)
        return Refusal(key: key, retryAfterSeconds: max(1, rounded), isFirst: first)
    }
}
