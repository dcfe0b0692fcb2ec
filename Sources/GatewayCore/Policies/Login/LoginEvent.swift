import Foundation

/// A login outcome one gateway shares with the others through a shared store, so that failures
/// spread over several gateways lock a client or username on all of them.
public struct LoginEvent: Sendable, Equatable {
    /// Which table the key belongs to.
    public enum Kind: String, Sendable {
        case client = "c"
        case username = "u"
    }

    public var kind: Kind
    /// A client address key, or a username's fingerprint (never the name).
    public var key: String
    public var time: Date
    /// A failure counts toward a lock; a success clears a username's failures.
    public var failed: Bool

    public init(kind: Kind, key: String, time: Date, failed: Bool) {
        self.kind = kind
        self.key = key
        self.time = time
        self.failed = failed
    }
}
