import Foundation
import GRDB

/// A row of `rate_limit`: one counter, written behind by the gateway.
struct RateLimitRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "rate_limit"

    var policy: String
    var key: String
    var tatNanoseconds: Int64

    enum CodingKeys: String, CodingKey {
        case policy, key
        case tatNanoseconds = "tat_ns"
    }

    enum Columns {
        static let key = Column(CodingKeys.key)
        static let tatNanoseconds = Column(CodingKeys.tatNanoseconds)
    }
}

/// A row of `rate_limit_reset`.
struct RateLimitResetRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "rate_limit_reset"

    var id: Int64?
    var key: String
    var requestedAtMilliseconds: Int64

    enum CodingKeys: String, CodingKey {
        case id, key
        case requestedAtMilliseconds = "requested_at_ms"
    }

    enum Columns {
        static let id = Column(CodingKeys.id)
        static let requestedAtMilliseconds = Column(CodingKeys.requestedAtMilliseconds)
    }
}

extension SQLiteStore {
    /// One gateway has no one to share login outcomes with.
    public func exchangeLoginEvents(_ events: [LoginEvent]) async throws -> [LoginEvent] { [] }

    /// Keeps each counter's `tat`: one gateway's counters are exact. Returns nothing to merge.
    public func saveRateLimitCounters(_ counters: [RateLimitCounter], resetKeys: [String], now: Int64) async throws
        -> [RateLimitCounter]
    {
        try await writer.write { db in
            if !resetKeys.isEmpty { try RateLimitRecord.filter(resetKeys.contains(RateLimitRecord.Columns.key)).deleteAll(db) }
            for counter in counters where counter.tat > now {
                try RateLimitRecord(policy: counter.policy, key: counter.key, tatNanoseconds: counter.tat).insert(db, onConflict: .replace)
            }
            try RateLimitRecord.filter(RateLimitRecord.Columns.tatNanoseconds <= now).deleteAll(db)
        }
        return []
    }

    public func rateLimitCounters(now: Int64, key: String?) async throws -> [RateLimitCounter] {
        try await writer.read { db in
            var request = RateLimitRecord.filter(RateLimitRecord.Columns.tatNanoseconds > now)
            if let key { request = request.filter(RateLimitRecord.Columns.key == key) }
            return try request.fetchAll(db).map { RateLimitCounter(policy: $0.policy, key: $0.key, tat: $0.tatNanoseconds) }
        }
    }

    public func resetRateLimits(key: String, at time: Date) async throws -> Int {
        try await writer.write { db in
            let deleted = try RateLimitRecord.filter(RateLimitRecord.Columns.key == key).deleteAll(db)
            try RateLimitResetRecord(id: nil, key: key, requestedAtMilliseconds: time.storeMilliseconds).insert(db)
            // Running gateways poll every second; a day-old reset has long been applied.
            let dayAgo = time.addingTimeInterval(-86_400).storeMilliseconds
            try RateLimitResetRecord.filter(RateLimitResetRecord.Columns.requestedAtMilliseconds < dayAgo).deleteAll(db)
            return deleted
        }
    }

    public func rateLimitResets(after: Int64) async throws -> [RateLimitReset] {
        try await writer.read { db in
            try RateLimitResetRecord.filter(RateLimitResetRecord.Columns.id > after).order(RateLimitResetRecord.Columns.id).fetchAll(db)
                .map { RateLimitReset(id: $0.id ?? 0, key: $0.key, requestedAt: Date(storeMilliseconds: $0.requestedAtMilliseconds)) }
        }
    }
}
