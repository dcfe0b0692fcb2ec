import Foundation
import GRDB

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

extension SQLiteStore {
    public func status() async throws -> StoreStatus {
        try await writer.read { db in
            try StoreStatus(
                engine: "sqlite",
                schemaVersion: Self.migrator.appliedIdentifiers(db).count,
                currentSchemaVersion: Self.migrator.migrations.count,
                auditEvents: AuditRecord.fetchCount(db),
                revocations: RevocationRecord.fetchCount(db),
                rateLimitCounters: RateLimitRecord.fetchCount(db),
                nodes: [])
        }
    }

    /// Copies the database to a new file at `path` with SQLite's online backup: a gateway
    /// writing meanwhile is not stopped, and the copy is one consistent moment. The copy is made
    /// beside `path` and renamed into place, so `path` is never a half-written file; an existing
    /// file is never replaced.
    public func backup(to path: String) async throws {
        guard !FileManager.default.fileExists(atPath: path) else { throw StoreError.backupExists(path) }
        let partial = path + ".partial"
        try? FileManager.default.removeItem(atPath: partial)
        try Self.createFile(at: partial)
        do {
            let destination = try DatabaseQueue(path: partial)
            try await Task.detached { try self.writer.backup(to: destination) }.value
            try destination.close()
            // link(2), unlike rename(2), fails rather than replace a file that appeared meanwhile.
            guard link(partial, path) == 0 else { throw StoreError.backupExists(path) }
            try? FileManager.default.removeItem(atPath: partial)
        } catch {
            try? FileManager.default.removeItem(atPath: partial)
            throw error
        }
    }
}
