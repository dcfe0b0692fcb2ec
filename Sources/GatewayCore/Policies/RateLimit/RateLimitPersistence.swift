import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Writes the limiter's counters behind to the store, so that a restart or a reload resets
/// nobody's quota.
///
/// ``restore()`` reads them back before the listener opens. Then once every ``flushInterval``:
/// resets requested by `gateway limits reset` are applied, changed counters are written in one
/// transaction, and counters back at full quota are swept from memory. Graceful shutdown writes a
/// last time, after the listener has drained; a crash (`kill -9`) loses at most one interval.
public final class RateLimitPersistence: Service, Sendable {
    public static let flushInterval = Duration.seconds(1)

    private let limiter: RateLimiter
    private let store: any GatewayStore
    private let now: @Sendable () -> Date
    private let logger: Logger
    /// The last reset applied (or already reflected in the stored counters at start).
    private let lastReset = Mutex<Int64>(0)

    public init(limiter: RateLimiter, store: any GatewayStore, logger: Logger, now: @escaping @Sendable () -> Date = { Date() }) {
        self.limiter = limiter
        self.store = store
        self.logger = logger
        self.now = now
    }

    private var nowNanoseconds: Int64 { now().rateLimitNanoseconds }

    /// Loads the stored counters into the limiter; resets recorded so far are reflected in them.
    public func restore() async throws {
        let counters = try await store.rateLimitCounters(now: nowNanoseconds, key: nil)
        limiter.restore(counters, now: nowNanoseconds)
        let last = try await store.rateLimitResets(after: 0).last?.id ?? 0
        lastReset.withLock { $0 = last }
        logger.info("rate limit counters restored", metadata: ["gateway.counters": "\(counters.count)"])
    }

    public func run() async {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: Self.flushInterval)
                await self.flush()
            }
        }
        // In a task of its own, which cancelling this service does not cancel: the last write still happens.
        await Task { await self.flush() }.value
    }

    /// One pass. A failed write is logged; memory keeps the counters and the next pass writes
    /// those that change again.
    func flush() async {
        do {
            let resets = try await store.rateLimitResets(after: lastReset.withLock { $0 })
            for reset in resets { limiter.reset(key: reset.key) }
            let now = nowNanoseconds
            try await store.saveRateLimitCounters(limiter.takeChanged(), resetKeys: resets.map(\.key), now: now)
            if let last = resets.last { lastReset.withLock { $0 = last.id } }
            limiter.sweep(now: now)
        } catch {
            logger.error("rate limit counters not saved", metadata: ["gateway.error": "\(error)"])
        }
    }
}
