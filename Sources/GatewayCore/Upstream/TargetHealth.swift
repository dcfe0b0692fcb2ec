import Foundation
import Synchronization

/// Whether one upstream target takes requests: written by ``UpstreamHealth``'s probes, read by
/// every event loop when it picks a target (one relaxed atomic load).
public final class TargetHealth: Sendable {
    public enum State: UInt8, Sendable {
        /// Not probed yet: it takes requests, but the gateway is not ready until it has been probed.
        case unchecked
        case up
        case down
    }

    public let upstream: String
    public let address: HostPort
    private let state = Atomic<UInt8>(State.unchecked.rawValue)
    /// Why the last probe failed, for `/readyz` and the log.
    private let lastFailure = Mutex<String?>(nil)
    private let lastProbeTime = Mutex<Date?>(nil)

    init(upstream: String, address: HostPort) {
        self.upstream = upstream
        self.address = address
    }

    public var current: State { State(rawValue: state.load(ordering: .relaxed)) ?? .down }

    /// Whether requests may go to it: `unchecked` or `up`.
    var takesRequests: Bool { current != .down }

    /// The last probe's failure while down.
    public var failure: String? { lastFailure.withLock { $0 } }

    /// When the last probe ended; `nil` before the first.
    public var lastProbe: Date? { lastProbeTime.withLock { $0 } }

    func probed(at time: Date) {
        lastProbeTime.withLock { $0 = time }
    }

    func mark(_ new: State, failure: String? = nil) {
        lastFailure.withLock { $0 = failure }
        state.store(new.rawValue, ordering: .relaxed)
    }
}
