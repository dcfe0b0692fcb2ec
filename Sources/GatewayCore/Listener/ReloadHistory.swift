import Foundation
import Synchronization

/// The outcome of the last config reload, for the status page.
public final class ReloadHistory: Sendable {
    /// One reload: when, whether it was applied, and what the log said.
    public struct Outcome: Sendable {
        public let time: Date
        public let applied: Bool
        public let detail: String
    }

    private let last = Mutex<Outcome?>(nil)

    public init() {}

    /// The last reload since start; `nil` when there was none.
    public var lastOutcome: Outcome? { last.withLock { $0 } }

    public func record(applied: Bool, detail: String) {
        let outcome = Outcome(time: Date(), applied: applied, detail: detail)
        last.withLock { $0 = outcome }
    }
}
