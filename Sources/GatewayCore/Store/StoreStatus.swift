import Foundation

/// What `gateway store status` prints: the schema and how much each table holds.
public struct StoreStatus: Sendable, Equatable {
    /// A gateway with an audit chain in a shared store: how many events it has appended (the
    /// head of its chain) and the time of its newest event still stored.
    public struct Node: Sendable, Equatable {
        public var name: String
        public var eventsAppended: Int
        public var newestEvent: Date?
    }

    /// `sqlite` or `postgresql`.
    public var engine: String
    /// The schema version the store is at, and the one this gateway writes.
    public var schemaVersion: Int
    public var currentSchemaVersion: Int
    public var auditEvents: Int
    public var revocations: Int
    public var rateLimitCounters: Int
    /// The gateways writing to a shared store; empty for SQLite, which has one chain and one writer.
    public var nodes: [Node]
}
