import Logging
import ServiceLifecycle
import Synchronization

/// Takes audit events from the request path and writes them to the store in batches.
///
/// ``record(_:)`` is called on event loops and never waits: it appends to a bounded in-memory
/// queue under a lock held for a few instructions. One writer, ``run()``, commits what is
/// queued every ``Configuration/flushInterval``, or as soon as a batch is waiting, in
/// transactions of at most ``Configuration/batchSize`` events. A failed write keeps its events
/// and is retried on the next tick; while the store stays down the queue fills up and the
/// overflow policy decides. Graceful shutdown or cancellation drains the queue before `run()`
/// returns.
public final class AuditRecorder: Service, Sendable {
    /// Sizes and timing of the queue and the writer.
    public struct Configuration: Sendable {
        /// Events queued or being written at most before ``overflow`` applies. Default 10,000.
        public var capacity: Int
        /// Default `.drop`.
        public var overflow: AuditOverflowPolicy
        /// Events per transaction at most; this many waiting wake the writer. Default 500.
        public var batchSize: Int
        /// How often the writer commits what is waiting. Default 100 ms.
        public var flushInterval: Duration

        public init(
            capacity: Int = 10_000,
            overflow: AuditOverflowPolicy = .drop,
            batchSize: Int = 500,
            flushInterval: Duration = .milliseconds(100)
        ) {
            self.capacity = capacity
            self.overflow = overflow
            self.batchSize = batchSize
            self.flushInterval = flushInterval
        }

        /// The queue size and overflow policy of `[store]`.
        public init(_ store: StoreConfig) {
            self.init(capacity: store.auditQueueSize, overflow: store.onAuditOverflow)
        }
    }

    /// How many times a batch is tried while draining at shutdown before it is given up.
    static let drainAttempts = 3

    private let store: any GatewayStore
    private let configuration: Configuration
    private let logger: Logger
    private let queue: Mutex<AuditQueue>

    public init(store: any GatewayStore, configuration: Configuration = Configuration(), logger: Logger) {
        self.store = store
        self.configuration = configuration
        self.logger = logger
        self.queue = Mutex(
            AuditQueue(capacity: configuration.capacity, overflow: configuration.overflow, batchSize: configuration.batchSize))
    }

    /// Events recorded but not yet committed.
    public var queueDepth: Int { queue.withLock { $0.depth } }

    /// Events lost: refused because the queue was full or the recorder had stopped, or given up
    /// after failed writes at shutdown.
    public var droppedEvents: Int { queue.withLock { $0.dropped } }

    /// When the writer last finished a round without a failing write, as time since `created`.
    private let created = ContinuousClock.now
    private let lastRound = Atomic<Int64>(0)

    private var sinceCreated: Int64 {
        let (seconds, attoseconds) = created.duration(to: .now).components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    /// Whether the writer finished a round without a failing write within `interval`: false while
    /// the store fails or hangs (the systemd watchdog then stops vouching for the process).
    public func isMakingProgress(within interval: Duration) -> Bool {
        let (seconds, attoseconds) = interval.components
        return sinceCreated - lastRound.load(ordering: .relaxed) <= seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    /// Queues `event` for the writer. Never blocks and never waits on disk; safe on an event loop.
    public func record(_ event: AuditEvent) {
        switch queue.withLock({ $0.enqueue(event, now: .now) }) {
        case .none:
            break
        case .wakeWriter(let writer):
            writer.resume()
        case .dropped(let total, let warn, let stopped):
            if warn {
                logger.warning(
                    stopped ? "audit recorder stopped, dropping events" : "audit queue full, dropping events",
                    metadata: ["gateway.audit_dropped": "\(total)", "gateway.audit_capacity": "\(configuration.capacity)"])
            }
        }
    }

    /// Returns once every event recorded before the call is committed (or given up). The writer
    /// must be running; returns at once if it has stopped.
    public func flush() async {
        await withCheckedContinuation { continuation in
            let (done, writer) = queue.withLock { $0.flush(continuation) }
            writer?.resume()
            done?.resume()
        }
    }

    /// Writes batches until graceful shutdown or cancellation, then drains the queue and returns.
    public func run() async {
        await withTaskCancellationOrGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                group.addTask { await self.tick() }
                await self.write()
                group.cancelAll()
            }
        } onCancelOrGracefulShutdown: {
            self.queue.withLock { $0.stop() }?.resume()
        }
    }

    /// Wakes the writer every flush interval until cancelled.
    private func tick() async {
        while (try? await Task.sleep(for: configuration.flushInterval)) != nil {
            queue.withLock { $0.wake() }?.resume()
        }
    }

    private func write() async {
        var pending: [AuditEvent] = []
        var taken: [AuditEvent] = []
        var failing = false
        while queue.withLock({ $0.phase == .running }) {
            await nextRound()
            queue.withLock { $0.take(into: &taken) }
            pending += taken
            taken.removeAll(keepingCapacity: true)
            failing = await commit(&pending, failing: failing)
            if !failing { lastRound.store(sinceCreated, ordering: .relaxed) }
        }
        await drain(&pending)
    }

    private func nextRound() async {
        await withCheckedContinuation { continuation in
            queue.withLock { $0.sleep(continuation) }?.resume()
        }
    }

    /// Commits `pending` in batches, removing what was written; stops at the first failure.
    /// Returns whether the store is failing, logging when that changes.
    private func commit(_ pending: inout [AuditEvent], failing: Bool) async -> Bool {
        while !pending.isEmpty {
            let batch = Array(pending.prefix(configuration.batchSize))
            do {
                // In a task of its own, which a cancelled recorder does not cancel: it still drains.
                try await Task { [store] in try await store.appendAudit(batch) }.value
            } catch {
                if !failing {
                    logger.error(
                        "audit write failed, retrying",
                        metadata: ["gateway.error": "\(error)", "gateway.audit_pending": "\(pending.count)"])
                }
                return true
            }
            pending.removeFirst(batch.count)
            for flush in queue.withLock({ $0.settle(batch.count) }) { flush.resume() }
        }
        if failing { logger.info("audit writes resumed") }
        return false
    }

    /// Writes what is still queued or pending, trying each batch a few times, until nothing is
    /// queued; then the recorder is stopped.
    private func drain(_ pending: inout [AuditEvent]) async {
        var taken: [AuditEvent] = []
        var failures = 0
        while true {
            queue.withLock { $0.take(into: &taken) }
            pending += taken
            taken.removeAll(keepingCapacity: true)
            while !pending.isEmpty, failures < Self.drainAttempts {
                if await commit(&pending, failing: failures > 0) {
                    failures += 1
                    try? await Task.sleep(for: configuration.flushInterval)
                }
            }
            if !pending.isEmpty {
                logger.error("audit events lost at shutdown", metadata: ["gateway.audit_dropped": "\(pending.count)"])
                for flush in queue.withLock({ [count = pending.count] in $0.abandon(count) }) { flush.resume() }
                pending.removeAll()
            }
            if let flushes = queue.withLock({ $0.finishIfDrained() }) {
                for flush in flushes { flush.resume() }
                return
            }
        }
    }
}
