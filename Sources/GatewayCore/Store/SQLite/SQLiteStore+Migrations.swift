import Crypto
import Foundation
import GRDB

extension SQLiteStore {
    /// The schema, one registered migration per change; never edit a migration that has shipped.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()

        migrator.registerMigration("createAudit") { db in
            try db.create(table: AuditRecord.databaseTableName) { t in
                t.primaryKey("id", .integer)
                t.column("time_ms", .integer).notNull().indexed()
                t.column("request_id", .text)
                t.column("client", .text).indexed()
                t.column("route", .text)
                t.column("method", .text)
                t.column("path", .text)
                t.column("subject", .text).indexed()
                t.column("type", .text).notNull()
                t.column("reason", .text)
                t.column("status", .integer)
                t.column("token_fingerprint", .text)
                t.column("prev_hash", .text).notNull()
                t.column("hash", .text).notNull()
            }
            try db.create(table: AuditChainRecord.databaseTableName) { t in
                t.primaryKey("id", .integer).check { $0 == 1 }
                t.column("checkpoint_id", .integer).notNull()
                t.column("checkpoint_hash", .text).notNull()
                t.column("head_id", .integer).notNull()
                t.column("head_hash", .text).notNull()
            }
            try db.execute(
                sql: "INSERT INTO audit_chain (id, checkpoint_id, checkpoint_hash, head_id, head_hash) VALUES (1, 0, ?, 0, ?)",
                arguments: [AuditHash.genesis, AuditHash.genesis])
        }

        migrator.registerMigration("createRevocation") { db in
            try db.create(table: RevocationRecord.databaseTableName) { t in
                t.primaryKey {
                    t.column("kind", .text)
                    t.column("value", .text)
                }
                t.column("revoked_at_ms", .integer).notNull()
                t.column("expires_at_ms", .integer).indexed()
            }
        }

        migrator.registerMigration("createJWKS") { db in
            try db.create(table: JWKSRecord.databaseTableName) { t in
                t.primaryKey("source", .text)
                t.column("document", .blob).notNull()
                t.column("fetched_at_ms", .integer).notNull()
            }
        }

        migrator.registerMigration("createInstallKey") { db in
            try db.create(table: "install_key") { t in
                t.primaryKey("id", .integer).check { $0 == 1 }
                t.column("key", .blob).notNull()
            }
            let key = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
            try db.execute(sql: "INSERT INTO install_key (id, key) VALUES (1, ?)", arguments: [key])
        }

        migrator.registerMigration("createRateLimit") { db in
            try db.create(table: RateLimitRecord.databaseTableName) { t in
                t.primaryKey {
                    t.column("policy", .text)
                    t.column("key", .text)
                }
                t.column("tat_ns", .integer).notNull().indexed()
            }
            try db.create(table: RateLimitResetRecord.databaseTableName) { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("key", .text).notNull()
                t.column("requested_at_ms", .integer).notNull()
            }
        }

        migrator.registerMigration("createWriteProbe") { db in
            try db.create(table: "write_probe") { t in
                t.primaryKey("id", .integer).check { $0 == 1 }
                t.column("written_at_ms", .integer).notNull()
            }
        }

        return migrator
    }
}
