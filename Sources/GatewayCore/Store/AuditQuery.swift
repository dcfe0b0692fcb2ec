import Foundation

/// Which audit events to read: every filter that is set must match.
public struct AuditQuery: Sendable, Equatable {
    /// Only events at or after this time.
    public var since: Date?
    public var type: AuditEventType?
    public var subject: String?
    public var client: String?
    /// The most events returned, newest first.
    public var limit: Int

    public init(
        since: Date? = nil,
        type: AuditEventType? = nil,
        subject: String? = nil,
        client: String? = nil,
        limit: Int = 100
    ) {
        self.since = since
        self.type = type
        self.subject = subject
        self.client = client
        self.limit = limit
    }
}

/// An audit event as stored, with its position in the chain.
public struct StoredAuditEvent: Sendable, Equatable {
    /// Row id, in the order the events were appended: consecutive in SQLite; over every node,
    /// with gaps, in PostgreSQL.
    public var id: Int64
    /// The gateway that recorded it, in a shared PostgreSQL store (`[server] node_name`).
    public var node: String?
    public var event: AuditEvent

    public init(id: Int64, node: String? = nil, event: AuditEvent) {
        self.id = id
        self.node = node
        self.event = event
    }
}

/// What the audit trail says about a period: how often each decision was made, and by whom.
public struct AuditStats: Sendable, Equatable {
    /// Event counts of the types that occurred.
    public var countsByType: [AuditEventType: Int]
    /// The clients with the most events, most first (at most ``topLimit``).
    public var topClients: [AuditCount]
    /// The subjects with the most events, most first (at most ``topLimit``).
    public var topSubjects: [AuditCount]

    /// How many clients and subjects the top lists hold at most.
    public static let topLimit = 10

    public init(countsByType: [AuditEventType: Int], topClients: [AuditCount], topSubjects: [AuditCount]) {
        self.countsByType = countsByType
        self.topClients = topClients
        self.topSubjects = topSubjects
    }

    /// Every event counted.
    public var total: Int { countsByType.values.reduce(0, +) }
}

/// A client address or subject and how many events it has.
public struct AuditCount: Sendable, Equatable {
    public var value: String
    public var count: Int

    public init(value: String, count: Int) {
        self.value = value
        self.count = count
    }
}
