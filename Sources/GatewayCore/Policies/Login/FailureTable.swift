import NIOCore

/// Recent failed logins and active locks for one kind of key (client addresses, or usernames),
/// bounded to `capacity` keys that are not locked.
///
/// A value type kept behind ``LoginGuard``'s `Mutex`: each method is a few dictionary operations,
/// except when the table is full, where spent keys are swept out (at most once a second) and the
/// least recently failed unlocked keys are evicted. A lock is never evicted, so a flood of new keys
/// cannot lift one; locks alone may take the table past `capacity`, by at most the locks one
/// cooldown can gather, and each leaves when its cooldown ends.
struct FailureTable {
    typealias Instant = ContinuousClock.Instant

    /// Whether a key may try now.
    enum Status: Equatable {
        case open
        /// Locked for `retryAfter` more; `firstRefusal` is true once per lock, for the audit trail.
        case locked(retryAfter: Duration, firstRefusal: Bool)
    }

    private struct Entry {
        /// Failures within the window, oldest first; fewer than the threshold.
        var failures: [Instant] = []
        var lockedUntil: Instant?
        var lockRefused = false
        /// Position in ``order``: the entry's last failure.
        var sequence: UInt64

        /// Adds a failure at `now`; returns true when it starts a lock. A failure that was already in
        /// flight when the lock began neither extends nor repeats it.
        mutating func countFailure(at now: Instant, maxFailures: Int, window: Duration, cooldown: Duration) -> Bool {
            if let lockedUntil, now < lockedUntil { return false }
            lockedUntil = nil
            failures.removeAll { now - $0 >= window }
            failures.append(now)
            guard failures.count >= maxFailures else { return false }
            failures.removeAll()
            lockedUntil = now + cooldown
            lockRefused = false
            return true
        }

        func isLocked(at now: Instant) -> Bool {
            lockedUntil.map { now < $0 } ?? false
        }

        func isSpent(at now: Instant, window: Duration) -> Bool {
            if isLocked(at: now) { return false }
            guard let last = failures.last else { return true }
            return now - last >= window
        }
    }

    /// Failures within `window` that lock a key for `cooldown`; 0 never locks. A reload may change
    /// them: failures counted and locks begun before stay as they are.
    var maxFailures: Int
    var window: Duration
    var cooldown: Duration
    let capacity: Int

    private var entries: [String: Entry] = [:]
    /// Keys by their last failure, oldest first. Items whose sequence no longer matches their
    /// entry's are stale and skipped; they are compacted away once they outnumber the entries.
    private var order = CircularBuffer<(key: String, sequence: UInt64)>()
    private var nextSequence: UInt64 = 0
    private var nextSweep: Instant?

    /// How often a full table may be swept for spent keys.
    static let sweepInterval = Duration.seconds(1)

    init(maxFailures: Int, window: Duration, cooldown: Duration, capacity: Int) {
        precondition(capacity > 0)
        self.maxFailures = maxFailures
        self.window = window
        self.cooldown = cooldown
        self.capacity = capacity
    }

    /// Keys remembered now.
    var count: Int { entries.count }

    /// Whether `key` is locked at `now`. Marks the first refusal of each lock.
    mutating func check(_ key: String, now: Instant) -> Status {
        guard var entry = entries[key] else { return .open }
        if let lockedUntil = entry.lockedUntil, now < lockedUntil {
            let first = !entry.lockRefused
            if first {
                entry.lockRefused = true
                entries[key] = entry
            }
            return .locked(retryAfter: lockedUntil - now, firstRefusal: first)
        }
        if entry.isSpent(at: now, window: window) { entries[key] = nil }
        return .open
    }

    /// Counts a failure of `key` at `now`; returns true when it starts a lock.
    @discardableResult
    mutating func recordFailure(_ key: String, now: Instant) -> Bool {
        guard maxFailures > 0 else { return false }
        if entries[key] == nil, entries.count >= capacity { makeRoom(at: now) }
        var entry = entries.removeValue(forKey: key) ?? Entry(sequence: 0)
        let locked = entry.countFailure(at: now, maxFailures: maxFailures, window: window, cooldown: cooldown)
        entry.sequence = nextSequence
        nextSequence += 1
        order.append((key, entry.sequence))
        entries[key] = entry
        compactOrderIfStale()
        return locked
    }

    /// Forgets the failures of `key` (a successful login); a lock that is on stays on.
    mutating func clearFailures(_ key: String, now: Instant) {
        guard var entry = entries[key] else { return }
        entry.failures.removeAll()
        entries[key] = entry.isSpent(at: now, window: window) ? nil : entry
    }

    private mutating func makeRoom(at now: Instant) {
        if nextSweep.map({ now >= $0 }) ?? true {
            entries = entries.filter { !$0.value.isSpent(at: now, window: window) }
            nextSweep = now + Self.sweepInterval
        }
        var locked: [(key: String, sequence: UInt64)] = []
        while entries.count >= capacity, let item = order.popFirst() {
            guard let entry = entries[item.key], entry.sequence == item.sequence else { continue }
            if entry.isLocked(at: now) {
                locked.append(item)
            } else {
                entries[item.key] = nil
            }
        }
        for item in locked.reversed() { order.prepend(item) }
    }

    private mutating func compactOrderIfStale() {
        guard order.count > 2 * max(entries.count, 1024) else { return }
        order = CircularBuffer(order.filter { entries[$0.key]?.sequence == $0.sequence })
    }
}
