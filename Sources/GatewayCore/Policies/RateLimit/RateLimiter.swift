import Synchronization

/// The rate limit counters of one node: exact, O(1) per check, bounded, and written behind to the store.
///
/// Counters are spread over shards by a hash of their policy and key, each shard behind its own
/// `Mutex` held for one table lookup and a few additions, so event loops rarely meet and a check
/// never waits on anything slower. Each shard keeps at most its share of ``RateLimitConfig/maxKeys``;
/// beyond, it evicts (and ``evictions`` counts) the counter whose quota comes back soonest among
/// the least recently used few, so that a flood of new keys pushes out its own fresh counters
/// rather than an exhausted one. Counters back at their full quota are equivalent to absent ones
/// and are swept out.
///
/// One limiter outlives config reloads: counters are keyed by ``RateLimitPolicy/id``.
public final class RateLimiter: Sendable {
    /// One counter: a policy and the value of its key.
    struct CounterKey: Hashable, Sendable {
        let policy: String
        let key: String
    }

    struct Counter {
        /// GCRA's theoretical arrival time, in nanoseconds since 1970.
        var tat: Int64
        /// The window (`now / period`) of the last audited refusal, and refusals since then.
        var auditedWindow: Int64 = -1
        var refusalsSinceAudit = 0
        /// Changed since the last flush to the store.
        var dirty = false
        /// Emission intervals admitted here since the last flush, in nanoseconds: what a shared
        /// store adds to the fleet's counter.
        var spent: Int64 = 0
    }

    private struct Shard {
        var counters: LRUTable<CounterKey, Counter>
        /// Slots marked dirty since the last flush.
        var dirtySlots: [Int32] = []
        var evictions = 0

        /// Removes a counter; a flush pending for it is dropped with it.
        mutating func remove(at slot: Int32) {
            counters[slot].dirty = false
            counters.remove(at: slot)
        }
    }

    private final class ShardBox: Sendable {
        let state: Mutex<Shard>
        init(capacity: Int) { state = Mutex(Shard(counters: LRUTable(capacity: capacity))) }
    }

    static let shardCount = 16
    /// After the first refusal of a counter in a window is audited, every this-many-th is.
    static let auditSampling = 100
    /// Counters swept per shard and pass at most, so a sweep holds a shard only briefly.
    static let sweepBatch = 1_000

    private let shards: [ShardBox]
    /// Whether the last flush to the store failed, and how many failed since start.
    private let storeSync = Mutex((failing: false, failures: 0))

    /// A limiter that remembers about `maxKeys` counters.
    public init(maxKeys: Int) {
        let perShard = max(1, (maxKeys + Self.shardCount - 1) / Self.shardCount)
        shards = (0..<Self.shardCount).map { _ in ShardBox(capacity: perShard) }
    }

    private func shard(for key: CounterKey) -> ShardBox {
        shards[Int(UInt(bitPattern: key.hashValue) % UInt(Self.shardCount))]
    }

    // MARK: Checking

    /// One policy's verdict on a request.
    public struct Verdict: Sendable {
        public let policy: RateLimitPolicy
        public let key: String
        let outcome: GCRA.Outcome
        /// For a refusal: whether this one goes to the audit trail, and how many were skipped before it.
        let audited: Bool
        let skippedAudits: Int

        /// Whether the policy let the request through.
        public var admitted: Bool { outcome.admitted }
    }

    /// Checks a request against every policy, `keys[i]` being its key for `policies[i]`. Policies are
    /// checked in order; the first enforced one that refuses ends the check and gives back what the
    /// policies before it had counted, so a refused request consumes nothing. Shadow policies count
    /// and report refusals but never refuse.
    public func check(_ policies: [RateLimitPolicy], keys: [String], now: Int64) -> [Verdict] {
        var verdicts: [Verdict] = []
        verdicts.reserveCapacity(policies.count)
        for (policy, key) in zip(policies, keys) {
            let verdict = check(policy, key: key, now: now)
            verdicts.append(verdict)
            if !verdict.outcome.admitted, policy.mode == .enforce {
                // Their verdicts then report the counters as given back, as `GET /limits` shows them.
                for index in verdicts.indices.dropLast() where verdicts[index].outcome.admitted {
                    verdicts[index] = giveBack(verdicts[index], now: now)
                }
                break
            }
        }
        return verdicts
    }

    private func check(_ policy: RateLimitPolicy, key: String, now: Int64) -> Verdict {
        let counterKey = CounterKey(policy: policy.id, key: key)
        return shard(for: counterKey).state.withLock { shard in
            let slot: Int32
            if let used = shard.counters.use(counterKey) {
                slot = used
            } else {
                let inserted = shard.counters.insert(counterKey, Counter(tat: 0), evictingLowest: \.tat)
                if inserted.evicted != nil { shard.evictions += 1 }
                slot = inserted.slot
            }
            var counter = shard.counters[slot]
            let outcome = GCRA.check(tat: counter.tat, now: now, policy: policy)
            var audited = false
            var skipped = 0
            if outcome.admitted {
                counter.tat = outcome.tat
                counter.spent += policy.emission
                if !counter.dirty {
                    counter.dirty = true
                    shard.dirtySlots.append(slot)
                }
            } else {
                let window = now / policy.period
                if counter.auditedWindow != window {
                    (audited, counter.auditedWindow, counter.refusalsSinceAudit) = (true, window, 0)
                } else {
                    counter.refusalsSinceAudit += 1
                    if counter.refusalsSinceAudit % Self.auditSampling == 0 {
                        (audited, skipped) = (true, Self.auditSampling - 1)
                    }
                }
            }
            shard.counters[slot] = counter
            return Verdict(policy: policy, key: key, outcome: outcome, audited: audited, skippedAudits: skipped)
        }
    }

    /// Takes back the share an admitted verdict counted; returns the verdict with the counter's state after that.
    private func giveBack(_ verdict: Verdict, now: Int64) -> Verdict {
        let counterKey = CounterKey(policy: verdict.policy.id, key: verdict.key)
        let tat: Int64? = shard(for: counterKey).state.withLock { shard in
            guard let slot = shard.counters.slot(of: counterKey) else { return nil }
            shard.counters[slot].tat -= verdict.policy.emission
            shard.counters[slot].spent -= verdict.policy.emission
            if !shard.counters[slot].dirty {
                shard.counters[slot].dirty = true
                shard.dirtySlots.append(slot)
            }
            return shard.counters[slot].tat
        }
        guard let tat else { return verdict }
        let state = verdict.policy.state(tat: tat, now: now)
        let outcome = GCRA.Outcome(admitted: true, tat: tat, remaining: state.remaining, reset: state.fullIn, retryAfter: 0)
        return Verdict(
            policy: verdict.policy, key: verdict.key, outcome: outcome, audited: verdict.audited, skippedAudits: verdict.skippedAudits)
    }

    // MARK: Housekeeping

    /// Whether the last write to the store failed: the counters are this node's alone until one succeeds.
    public var isStoreLost: Bool { storeSync.withLock { $0.failing } }

    /// Flushes to the store that failed, since the start.
    public var storeFailures: Int { storeSync.withLock { $0.failures } }

    /// Records the outcome of a flush; returns whether that changed ``isStoreLost``.
    func recordStoreSync(succeeded: Bool) -> Bool {
        storeSync.withLock { state in
            if !succeeded { state.failures += 1 }
            defer { state.failing = !succeeded }
            return state.failing == succeeded
        }
    }

    /// Counters evicted to stay within `maxKeys`, since the start.
    public var evictions: Int { shards.reduce(0) { total, box in total + box.state.withLock { $0.evictions } } }

    /// Counters held now.
    public var count: Int { shards.reduce(0) { total, box in total + box.state.withLock { $0.counters.count } } }

    /// The counters changed since the last call, for the store; those back at their full quota
    /// have `tat <= now` and are deleted there.
    func takeChanged() -> [RateLimitCounter] {
        var changed: [RateLimitCounter] = []
        for box in shards {
            box.state.withLock { shard in
                for slot in shard.dirtySlots where shard.counters[slot].dirty {
                    shard.counters[slot].dirty = false
                    let key = shard.counters.key(at: slot)
                    let counter = shard.counters[slot]
                    changed.append(RateLimitCounter(policy: key.policy, key: key.key, tat: counter.tat, spent: counter.spent))
                    shard.counters[slot].spent = 0
                }
                shard.dirtySlots.removeAll(keepingCapacity: true)
            }
        }
        return changed
    }

    /// Drops counters back at their full quota from the least recently used end of each shard.
    func sweep(now: Int64) {
        for box in shards {
            box.state.withLock { shard in
                for slot in shard.counters.oldestSlots(limit: Self.sweepBatch, while: { $0.tat <= now }) {
                    shard.remove(at: slot)
                }
            }
        }
    }

    /// Takes in counters read from the store: at start, and on a shared store the fleet's totals
    /// after each flush. A counter's share spent here since the flush is added on top of the
    /// store's, and the later of that and the local state wins; counters already full are skipped.
    func merge(_ counters: [RateLimitCounter], now: Int64) {
        for counter in counters where counter.tat > now {
            let counterKey = CounterKey(policy: counter.policy, key: counter.key)
            shard(for: counterKey).state.withLock { shard in
                if let slot = shard.counters.slot(of: counterKey) {
                    shard.counters[slot].tat = max(shard.counters[slot].tat, counter.tat + shard.counters[slot].spent)
                } else {
                    _ = shard.counters.insert(counterKey, Counter(tat: counter.tat), evictingLowest: \.tat)
                }
            }
        }
    }

    /// Gives back counters ``takeChanged()`` took when the store did not take them: they are
    /// written, with what they spent, at the next flush.
    func requeue(_ counters: [RateLimitCounter]) {
        for counter in counters {
            let counterKey = CounterKey(policy: counter.policy, key: counter.key)
            shard(for: counterKey).state.withLock { shard in
                guard let slot = shard.counters.slot(of: counterKey) else { return }
                shard.counters[slot].spent += counter.spent
                if !shard.counters[slot].dirty {
                    shard.counters[slot].dirty = true
                    shard.dirtySlots.append(slot)
                }
            }
        }
    }

    /// The counters of `key`, by policy id, as their `tat` (operators' view; scans every shard).
    func counters(key: String) -> [String: Int64] {
        var found: [String: Int64] = [:]
        for box in shards {
            box.state.withLock { shard in
                for slot in shard.counters.occupiedSlots where shard.counters.key(at: slot).key == key {
                    found[shard.counters.key(at: slot).policy] = shard.counters[slot].tat
                }
            }
        }
        return found
    }

    /// Forgets every counter of `key` (any policy): its quotas are full again.
    func reset(key: String) {
        for box in shards {
            box.state.withLock { shard in
                let slots = shard.counters.occupiedSlots.filter { shard.counters.key(at: $0).key == key }
                for slot in slots { shard.remove(at: slot) }
            }
        }
    }
}

/// One counter as the store keeps it.
public struct RateLimitCounter: Sendable, Equatable {
    /// ``RateLimitPolicy/id``.
    public let policy: String
    /// The value of the policy's key, e.g. `ip:192.0.2.1` or `sub:42@userservice`.
    public let key: String
    /// GCRA's theoretical arrival time, in nanoseconds since 1970: when the quota is full again.
    public let tat: Int64
    /// On its way to the store: the emission intervals this gateway admitted since its last
    /// flush, in nanoseconds, which a shared store adds to the fleet's `tat`. 0 when read back.
    public let spent: Int64

    public init(policy: String, key: String, tat: Int64, spent: Int64 = 0) {
        self.policy = policy
        self.key = key
        self.tat = tat
        self.spent = spent
    }
}
