import NIOCore

/// How long a request body has been arriving, less the time the gateway held its reads back
/// because the upstream was not taking more: the client's body deadlines count its own time only.
struct BodyClock {
    private let started: NIODeadline
    private var paused = TimeAmount.zero
    private var pausedSince: NIODeadline?

    init(now: NIODeadline = .now()) { started = now }

    /// Reads are held for the upstream's sake from `now` on.
    mutating func pause(at now: NIODeadline = .now()) {
        if pausedSince == nil { pausedSince = now }
    }

    /// Reads go on again.
    mutating func resume(at now: NIODeadline = .now()) {
        guard let since = pausedSince else { return }
        paused = paused + (now - since)
        pausedSince = nil
    }

    /// The client's time so far.
    func elapsed(at now: NIODeadline = .now()) -> TimeAmount {
        now - started - paused - (pausedSince.map { now - $0 } ?? .zero)
    }
}
