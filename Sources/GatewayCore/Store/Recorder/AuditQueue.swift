/// The state an ``AuditRecorder`` shares between the request path and its writer: the events
/// waiting, the writer's progress, and who waits for what.
///
/// A value type kept behind a `Mutex`; each method is a few instructions and says what the
/// caller must do once the lock is released (resume a continuation, log a warning).
struct AuditQueue {
    enum Phase {
        case running
        /// Shutdown was requested: the writer drains what is queued, then stops.
        case stopping
        /// The writer has returned: new events are dropped.
        case stopped
    }

    enum EnqueueAction {
        case none
        case wakeWriter(CheckedContinuation<Void, Never>)
        /// Dropped; `warn` at most once per second, with the total dropped so far.
        case dropped(total: Int, warn: Bool, stopped: Bool)
    }

    /// Events queued plus events being written, at which the overflow policy starts.
    let capacity: Int
    /// Events queued plus events being written, beyond which events are dropped.
    let limit: Int
    /// Queued events that wake the writer before its next tick.
    let batchSize: Int

    private(set) var phase = Phase.running
    private var events: [AuditEvent] = []
    /// Taken by the writer and not yet committed or abandoned.
    private var writing = 0
    private(set) var dropped = 0
    /// Events ever accepted, and of those ever committed or abandoned: what ``AuditRecorder/flush()`` waits on.
    private var accepted = 0
    private var settled = 0
    private var lastDropWarning: ContinuousClock.Instant?
    private var sleepingWriter: CheckedContinuation<Void, Never>?
    /// Set when the writer should start a round as soon as it next looks, if it was busy when woken.
    private var wakeRequested = false
    private var flushes: [(through: Int, continuation: CheckedContinuation<Void, Never>)] = []

    init(capacity: Int, overflow: AuditOverflowPolicy, batchSize: Int) {
        self.capacity = capacity
        self.limit = overflow == .block ? 2 * capacity : capacity
        self.batchSize = batchSize
    }

    /// Events not yet committed.
    var depth: Int { events.count + writing }

    // MARK: The request path

    mutating func enqueue(_ event: AuditEvent, now: @autoclosure () -> ContinuousClock.Instant) -> EnqueueAction {
        guard phase != .stopped, depth < limit else {
            dropped += 1
            let time = now()
            let warn = lastDropWarning.map { time - $0 >= .seconds(1) } ?? true
            if warn { lastDropWarning = time }
            return .dropped(total: dropped, warn: warn, stopped: phase == .stopped)
        }
        events.append(event)
        accepted += 1
        guard events.count == batchSize || depth == capacity else { return .none }
        return wake().map(EnqueueAction.wakeWriter) ?? .none
    }

    // MARK: The writer

    /// The writer's continuation to resume now, or `nil` after asking it to start a round as
    /// soon as it next looks.
    mutating func wake() -> CheckedContinuation<Void, Never>? {
        guard let writer = sleepingWriter else {
            wakeRequested = true
            return nil
        }
        sleepingWriter = nil
        return writer
    }

    /// Parks the writer until the next ``wake()``, unless it should start a round at once.
    mutating func sleep(_ writer: CheckedContinuation<Void, Never>) -> CheckedContinuation<Void, Never>? {
        if wakeRequested || phase != .running {
            wakeRequested = false
            return writer
        }
        sleepingWriter = writer
        return nil
    }

    /// Hands the queued events to the writer by swapping them with `buffer`, which must be empty.
    mutating func take(into buffer: inout [AuditEvent]) {
        swap(&events, &buffer)
        writing += buffer.count
    }

    /// Records that the writer committed (or gave up on) `count` events; returns the flushes
    /// this completes.
    mutating func settle(_ count: Int) -> [CheckedContinuation<Void, Never>] {
        writing -= count
        settled += count
        return completedFlushes()
    }

    /// Records that the writer gave up on `count` events it had taken.
    mutating func abandon(_ count: Int) -> [CheckedContinuation<Void, Never>] {
        dropped += count
        return settle(count)
    }

    // MARK: Lifecycle

    /// Asks the writer to drain and stop; returns it if it sleeps.
    mutating func stop() -> CheckedContinuation<Void, Never>? {
        guard phase == .running else { return nil }
        phase = .stopping
        return wake()
    }

    /// Called by the writer with nothing left in hand: stops it if nothing is queued either.
    mutating func finishIfDrained() -> [CheckedContinuation<Void, Never>]? {
        guard events.isEmpty else { return nil }
        phase = .stopped
        defer { flushes.removeAll() }
        return flushes.map(\.continuation)
    }

    /// Registers a flush of everything accepted so far; returns it if already done, and the
    /// writer to wake.
    mutating func flush(
        _ continuation: CheckedContinuation<Void, Never>
    ) -> (done: CheckedContinuation<Void, Never>?, writer: CheckedContinuation<Void, Never>?) {
        guard phase != .stopped, settled < accepted else { return (continuation, nil) }
        flushes.append((accepted, continuation))
        return (nil, wake())
    }

    private mutating func completedFlushes() -> [CheckedContinuation<Void, Never>] {
        let settled = settled
        let done = flushes.filter { $0.through <= settled }.map(\.continuation)
        flushes.removeAll { $0.through <= settled }
        return done
    }
}
