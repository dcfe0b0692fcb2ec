import Foundation
import GRDB

extension SQLiteStore {
    public func verifyAuditChain() async throws -> AuditChainReport {
        try await writer.read { db in
            let chain = try AuditChainRecord.current(db)
            var walk = AuditChainWalk(checkpointID: chain.checkpointID, checkpointHash: chain.checkpointHash)
            let rows = try Row.fetchCursor(db, AuditRecord.order { $0.id })
            while let row = try rows.next() {
                let fields = AuditRecord.Columns.hashed.map { (row[$0.name] as DatabaseValue).auditHashField }
                let broken = walk.check(
                    id: row[AuditRecord.Columns.id],
                    fields: fields,
                    previousHash: (row[AuditRecord.Columns.previousHash] as DatabaseValue).auditHashField,
                    hash: (row[AuditRecord.Columns.hash] as DatabaseValue).auditHashField)
                if let broken { return .broken(broken) }
            }
            return walk.finish(headID: chain.headID, headHash: chain.headHash)
        }
    }

    public func pruneAudit(olderThan cutoff: Date) async throws -> Int {
        let cutoff = cutoff.storeMilliseconds
        return try await writer.write { db in
            // Only a prefix in id order may go, so that the chain stays verifiable from its last
            // row: everything before the first row that is not older than the cutoff.
            let firstKept =
                try AuditRecord
                .filter { $0.timeMilliseconds >= cutoff }
                .order { $0.id }
                .select(AuditRecord.Columns.id, as: Int64.self)
                .fetchOne(db)
            var lastPruned = AuditRecord.order { $0.id.desc }
            if let firstKept {
                lastPruned = lastPruned.filter { $0.id < firstKept }
            }
            guard let last = try lastPruned.fetchOne(db) else { return 0 }
            var chain = try AuditChainRecord.current(db)
            chain.checkpointID = last.id
            chain.checkpointHash = last.hash
            try chain.save(db)
            return try AuditRecord.filter { $0.id <= last.id }.deleteAll(db)
        }
    }
}
