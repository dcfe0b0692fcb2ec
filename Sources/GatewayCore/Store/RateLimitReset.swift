import Foundation

/// An operator's `gateway limits reset`: running gateways forget the key's counters when they see it.
public struct RateLimitReset: Sendable, Equatable {
    /// Increasing: a gateway remembers the last one it applied.
    public let id: Int64
    public let key: String
    public let requestedAt: Date
}
