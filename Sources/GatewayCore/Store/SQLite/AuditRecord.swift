import Foundation
import GRDB

/// A row of `audit_event`: one ``AuditEvent`` and its links in the hash chain.
struct AuditRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "audit_event"

    /// Consecutive from the chain head, never reused: a gap is a deleted row.
    var id: Int64
    var timeMilliseconds: Int64
    var requestID: String?
    var client: String?
    var route: String?
    var method: String?
    var path: String?
    var subject: String?
    var type: String
    var reason: String?
    var status: Int?
    var tokenFingerprint: String?
    var previousHash: String
    var hash: String

    enum CodingKeys: String, CodingKey {
        case id
        case timeMilliseconds = "time_ms"
        case requestID = "request_id"
        case client, route, method, path, subject, type, reason, status
        case tokenFingerprint = "token_fingerprint"
        case previousHash = "prev_hash"
        case hash
    }

    enum Columns {
        static let id = Column(CodingKeys.id)
        static let timeMilliseconds = Column(CodingKeys.timeMilliseconds)
        static let requestID = Column(CodingKeys.requestID)
        static let client = Column(CodingKeys.client)
        static let route = Column(CodingKeys.route)
        static let method = Column(CodingKeys.method)
        static let path = Column(CodingKeys.path)
        static let subject = Column(CodingKeys.subject)
        static let type = Column(CodingKeys.type)
        static let reason = Column(CodingKeys.reason)
        static let status = Column(CodingKeys.status)
        static let tokenFingerprint = Column(CodingKeys.tokenFingerprint)
        static let previousHash = Column(CodingKeys.previousHash)
        static let hash = Column(CodingKeys.hash)

        /// Every column but `hash`, in the order ``AuditHash`` encodes them.
        static let hashed = [
            previousHash, id, timeMilliseconds, requestID, client, route, method, path, subject, type, reason,
            status, tokenFingerprint,
        ]
    }

    /// The row for `event` at position `id`, after the row whose hash is `previousHash`.
    init(id: Int64, event: AuditEvent, previousHash: String) throws {
        self.id = id
        self.timeMilliseconds = event.time.storeMilliseconds
        self.requestID = event.requestID
        self.client = event.client
        self.route = event.route
        self.method = event.method
        self.path = event.path
        self.subject = event.subject
        self.type = event.type.rawValue
        self.reason = event.reason
        self.status = event.status
        self.tokenFingerprint = event.tokenFingerprint
        self.previousHash = previousHash
        self.hash = ""
        let values = try databaseDictionary
        self.hash = Self.hash(of: Columns.hashed.map { values[$0.name] ?? .null })
    }

    /// The hash a row with these values in ``Columns/hashed`` order must carry.
    static func hash(of values: [DatabaseValue]) -> String {
        AuditHash.hash(values.map(\.auditHashField))
    }

    var storedEvent: StoredAuditEvent {
        get throws {
            guard let type = AuditEventType(rawValue: type) else {
                throw StoreError.unreadableRow(in: Self.databaseTableName, "row \(id) has the unknown type \(type.debugDescription)")
            }
            let event = AuditEvent(
                time: Date(storeMilliseconds: timeMilliseconds), type: type, requestID: requestID, client: client,
                route: route, method: method, path: path, subject: subject, reason: reason, status: status,
                tokenFingerprint: tokenFingerprint)
            return StoredAuditEvent(id: id, event: event)
        }
    }
}

/// The single row of `audit_chain`: where verification starts (the last pruned row) and where
/// the chain ends (the last appended row), so that rows deleted at either end are noticed.
struct AuditChainRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "audit_chain"

    var id: Int64 = 1
    var checkpointID: Int64
    var checkpointHash: String
    var headID: Int64
    var headHash: String

    enum CodingKeys: String, CodingKey {
        case id
        case checkpointID = "checkpoint_id"
        case checkpointHash = "checkpoint_hash"
        case headID = "head_id"
        case headHash = "head_hash"
    }

    /// The chain before anything was appended.
    static let empty = AuditChainRecord(checkpointID: 0, checkpointHash: AuditHash.genesis, headID: 0, headHash: AuditHash.genesis)

    /// The stored row; if someone deleted it, one rebuilt from the newest event so that
    /// appending carries on (verification then misses the checkpoint and reports the pruned rows).
    static func current(_ db: Database) throws -> AuditChainRecord {
        if let chain = try fetchOne(db, key: 1) { return chain }
        var chain = empty
        if let newest = try AuditRecord.order(AuditRecord.Columns.id.desc).fetchOne(db) {
            chain.headID = newest.id
            chain.headHash = newest.hash
        }
        return chain
    }
}

extension DatabaseValue {
    /// The value as the audit hash encodes it, keeping its storage class.
    var auditHashField: AuditHash.Field {
        switch storage {
        case .null: .null
        case .int64(let value): .integer(value)
        case .string(let text): .text(text)
        case .double(let value): .real(value)
        case .blob(let data): .blob(Array(data))
        }
    }
}
