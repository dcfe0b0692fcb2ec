import Foundation
import GRDB

/// A row of `revocation`: a revoked token id or subject.
struct RevocationRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "revocation"

    /// `jti` or `subject`.
    var kind: String
    var value: String
    var revokedAtMilliseconds: Int64
    var expiresAtMilliseconds: Int64?

    enum CodingKeys: String, CodingKey {
        case kind, value
        case revokedAtMilliseconds = "revoked_at_ms"
        case expiresAtMilliseconds = "expires_at_ms"
    }

    enum Columns {
        static let kind = Column(CodingKeys.kind)
        static let value = Column(CodingKeys.value)
        static let revokedAtMilliseconds = Column(CodingKeys.revokedAtMilliseconds)
        static let expiresAtMilliseconds = Column(CodingKeys.expiresAtMilliseconds)
    }

    init(_ revocation: Revocation) {
        (kind, value) = revocation.stored
        revokedAtMilliseconds = revocation.revokedAt.storeMilliseconds
        expiresAtMilliseconds = revocation.expiresAt?.storeMilliseconds
    }

    var revocation: Revocation {
        get throws {
            try Revocation(
                storedKind: kind, value: value, revokedAt: Date(storeMilliseconds: revokedAtMilliseconds),
                expiresAt: expiresAtMilliseconds.map(Date.init(storeMilliseconds:)))
        }
    }
}

extension SQLiteStore {
    public func addRevocation(_ revocation: Revocation) async throws {
        try await writer.write { db in
            try RevocationRecord(revocation).insert(db, onConflict: .replace)
        }
    }

    public func revocations() async throws -> [Revocation] {
        try await writer.read { db in
            try RevocationRecord.order { [$0.kind, $0.value] }.fetchAll(db).map { try $0.revocation }
        }
    }

    public func pruneRevocations(expiredBefore cutoff: Date) async throws -> Int {
        let cutoff = cutoff.storeMilliseconds
        return try await writer.write { db in
            try RevocationRecord.filter { $0.expiresAtMilliseconds < cutoff }.deleteAll(db)
        }
    }
}
