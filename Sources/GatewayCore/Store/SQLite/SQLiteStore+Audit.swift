import Foundation
import GRDB

extension SQLiteStore {
    public func appendAudit(_ events: [AuditEvent]) async throws {
        guard !events.isEmpty else { return }
        try await writer.write { db in
            var chain = try AuditChainRecord.current(db)
            for event in events {
                let record = try AuditRecord(id: chain.headID + 1, event: event, previousHash: chain.headHash)
                try record.insert(db)
                chain.headID = record.id
                chain.headHash = record.hash
            }
            try chain.save(db)
        }
    }

    public func auditEvents(_ query: AuditQuery) async throws -> [StoredAuditEvent] {
        try await writer.read { db in
            var request = AuditRecord.all()
            if let since = query.since {
                request = request.filter { $0.timeMilliseconds >= since.storeMilliseconds }
            }
            if let type = query.type {
                request = request.filter { $0.type == type.rawValue }
            }
            if let subject = query.subject {
                request = request.filter { $0.subject == subject }
            }
            if let client = query.client {
                request = request.filter { $0.client == client }
            }
            return try request.order { $0.id.desc }.limit(query.limit).fetchAll(db).map { try $0.storedEvent }
        }
    }

    public func auditStats(since: Date) async throws -> AuditStats {
        let since = since.storeMilliseconds
        return try await writer.read { db in
            let typeCounts: SQLRequest<Row> = """
                SELECT \(AuditRecord.Columns.type) AS type, COUNT(*) AS count FROM \(AuditRecord.self)
                WHERE \(AuditRecord.Columns.timeMilliseconds) >= \(since)
                GROUP BY \(AuditRecord.Columns.type)
                """
            var countsByType: [AuditEventType: Int] = [:]
            for row in try typeCounts.fetchAll(db) {
                let name: String = row["type"]
                guard let type = AuditEventType(rawValue: name) else {
                    throw StoreError.unreadableRow(in: AuditRecord.databaseTableName, "unknown type \(name.debugDescription)")
                }
                countsByType[type] = row["count"]
            }
            return AuditStats(
                countsByType: countsByType,
                topClients: try Self.top(AuditRecord.Columns.client, since: since, db),
                topSubjects: try Self.top(AuditRecord.Columns.subject, since: since, db))
        }
    }

    /// The values of `column` with the most events since `since`, most first, ties by value.
    private static func top(_ column: Column, since: Int64, _ db: Database) throws -> [AuditCount] {
        let request: SQLRequest<Row> = """
            SELECT \(column) AS value, COUNT(*) AS count FROM \(AuditRecord.self)
            WHERE \(AuditRecord.Columns.timeMilliseconds) >= \(since) AND \(column) IS NOT NULL
            GROUP BY \(column)
            ORDER BY count DESC, value
            LIMIT \(AuditStats.topLimit)
            """
        return try request.fetchAll(db).map { AuditCount(value: $0["value"], count: $0["count"]) }
    }
}
