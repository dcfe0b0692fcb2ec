import Foundation
import GRDB

/// A row of `jwks`: the last good key set fetched from one source.
struct JWKSRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "jwks"

    /// The URL the document was fetched from.
    var source: String
    var document: Data
    var fetchedAtMilliseconds: Int64

    enum CodingKeys: String, CodingKey {
        case source, document
        case fetchedAtMilliseconds = "fetched_at_ms"
    }

    enum Columns {
        static let source = Column(CodingKeys.source)
        static let document = Column(CodingKeys.document)
        static let fetchedAtMilliseconds = Column(CodingKeys.fetchedAtMilliseconds)
    }
}

extension SQLiteStore {
    public func saveJWKS(source: String, document: Data, fetchedAt: Date) async throws {
        let record = JWKSRecord(source: source, document: document, fetchedAtMilliseconds: fetchedAt.storeMilliseconds)
        try await writer.write { db in
            try record.insert(db, onConflict: .replace)
        }
    }

    public func lastGoodJWKS(source: String) async throws -> (document: Data, fetchedAt: Date)? {
        let record = try await writer.read { db in try JWKSRecord.fetchOne(db, key: source) }
        return record.map { ($0.document, Date(storeMilliseconds: $0.fetchedAtMilliseconds)) }
    }
}

extension SQLiteStore {
    public func installKey() async throws -> [UInt8] {
        let key = try await writer.read { db in try Data.fetchOne(db, sql: "SELECT key FROM install_key WHERE id = 1") }
        guard let key, key.count == 32 else { throw StoreError.unreadableRow(in: "install_key", "the key is missing or not 32 bytes") }
        return Array(key)
    }

    public func checkWritable(at time: Date) async throws {
        try await writer.write { db in
            try db.execute(
                sql:
                    "INSERT INTO write_probe (id, written_at_ms) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET written_at_ms = excluded.written_at_ms",
                arguments: [time.storeMilliseconds])
        }
    }
}
