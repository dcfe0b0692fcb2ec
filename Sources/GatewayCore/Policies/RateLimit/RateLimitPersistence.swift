import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Writes the limiter's counters behind to the store, so that a restart or a reload resets
/// nobody's quota, and on a shared store merges them with the other gateways'.
///
/// ``restore()`` reads them back before the listener opens. Then once every `[store] sync_interval`:
/// resets requested by `gateway limits reset` are applied, changed counters are written in one
/// transaction, the fleet's totals (on PostgreSQL) are merged in, and counters back at full quota
/// are swept from memory; and the login guard's outcomes are exchanged with the other gateways'
/// (on PostgreSQL). Graceful shutdown writes a last time, after the listener has drained; a
/// crash (`kill -9`) loses at most one interval. While the store fails, the limiter keeps counting
/// alone, and what it counted is written when the store answers again.
public final class RateLimitPersistence: Service, Sendable {
    private let interval: Duration
    private let limiter: RateLimiter
    private let loginGuard: LoginGuard?
    private let store: any GatewayStore
    private let now: @Sendable () -> Date
    private let logger: Logger
    /// The last reset applied (or already reflected in the stored counters at start).
    private let lastReset = Mutex<Int64>(0)

    public init(
        limiter: RateLimiter, loginGuard: LoginGuard? = nil, store: any GatewayStore, interval: Duration = .seconds(1),
        logger: Logger, now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.interval = interval
        self.limiter = limiter
        self.loginGuard = loginGuard
        self.store = store
        self.logger = logger
        self.now = now
    }

    private var nowNanoseconds: Int64 { now().rateLimitNanoseconds }

    /// Loads the stored counters into the limiter; resets recorded so far are reflected in them.
    public func restore() async throws {
        let counters = try await store.rateLimitCounters(now: nowNanoseconds, key: nil)
        limiter.merge(counters, now: nowNanoseconds)
        let last = try await store.rateLimitResets(after: 0).last?.id ?? 0
        lastReset.withLock { $0 = last }
        logger.info("rate limit counters restored", metadata: ["gateway.counters": "\(counters.count)"])
    }

    public func run() async {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: self.interval)
                await self.flush()
            }
        }
        // In a task of its own, which cancelling this service does not cancel: the last write still happens.
        await Task { await self.flush() }.value
    }

    /// One pass. A failed write is logged when the store is first lost and when it is back; the
    /// counters taken for it go back to the limiter, to be written by a later pass.
    func flush() async {
        var changed: [RateLimitCounter] = []
        var logins: [LoginEvent] = []
        do {
            let resets = try await store.rateLimitResets(after: lastReset.withLock { $0 })
            for reset in resets { limiter.reset(key: reset.key) }
            let now = nowNanoseconds
            changed = limiter.takeChanged()
            let shared = try await store.saveRateLimitCounters(changed, resetKeys: resets.map(\.key), now: now)
            limiter.merge(shared, now: now)
            if let last = resets.last { lastReset.withLock { $0 = last.id } }
            limiter.sweep(now: now)
            if let loginGuard {
                logins = loginGuard.takeShared()
                loginGuard.applyShared(try await store.exchangeLoginEvents(logins))
                logins = []
            }
            if limiter.recordStoreSync(succeeded: true) {
                logger.notice("store reachable again: rate limit counters written", metadata: ["gateway.store": "\(store.location)"])
            }
        } catch {
            limiter.requeue(changed)
            loginGuard?.requeueShared(logins)
            if limiter.recordStoreSync(succeeded: false) {
                logger.error(
                    "store lost: rate limits enforced by this gateway alone until it answers",
                    metadata: ["gateway.store": "\(store.location)", "gateway.error": "\(error)"])
            }
        }
    }
}
