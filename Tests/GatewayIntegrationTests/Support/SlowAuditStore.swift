import Foundation
import GatewayCore
import Synchronization

/// A real in-memory SQLite store whose audit appends each wait `appendDelay` before writing, as
/// on a disk that stalls. Everything else goes straight to the store.
final class SlowAuditStore: GatewayStore {
    let base: SQLiteStore
    private let appendDelay: Duration
    private let started = Atomic<Int>(0)

    init(appendDelay: Duration) throws {
        self.base = try SQLiteStore.inMemory()
        self.appendDelay = appendDelay
    }

    /// Appends begun so far, finished or not.
    var appendsStarted: Int { started.load(ordering: .relaxed) }

    func appendAudit(_ events: [AuditEvent]) async throws {
        started.add(1, ordering: .relaxed)
        try await Task.sleep(for: appendDelay)
        try await base.appendAudit(events)
    }

    func auditEvents(_ query: AuditQuery) async throws -> [StoredAuditEvent] { try await base.auditEvents(query) }
    func auditStats(since: Date) async throws -> AuditStats { try await base.auditStats(since: since) }
    func verifyAuditChain() async throws -> AuditChainReport { try await base.verifyAuditChain() }
    func pruneAudit(olderThan: Date) async throws -> Int { try await base.pruneAudit(olderThan: olderThan) }
    func addRevocation(_ revocation: Revocation) async throws { try await base.addRevocation(revocation) }
    func revocations() async throws -> [Revocation] { try await base.revocations() }
    func pruneRevocations(expiredBefore: Date) async throws -> Int { try await base.pruneRevocations(expiredBefore: expiredBefore) }

    func saveJWKS(source: String, document: Data, fetchedAt: Date) async throws {
        try await base.saveJWKS(source: source, document: document, fetchedAt: fetchedAt)
    }

    func lastGoodJWKS(source: String) async throws -> (document: Data, fetchedAt: Date)? {
        try await base.lastGoodJWKS(source: source)
    }

    func saveRateLimitCounters(_ counters: [RateLimitCounter], resetKeys: [String], now: Int64) async throws {
        try await base.saveRateLimitCounters(counters, resetKeys: resetKeys, now: now)
    }

    func rateLimitCounters(now: Int64, key: String?) async throws -> [RateLimitCounter] {
        try await base.rateLimitCounters(now: now, key: key)
    }

    func resetRateLimits(key: String, at time: Date) async throws -> Int {
        try await base.resetRateLimits(key: key, at: time)
    }

    func rateLimitResets(after: Int64) async throws -> [RateLimitReset] {
        try await base.rateLimitResets(after: after)
    }

    func installKey() async throws -> [UInt8] {
        try await base.installKey()
    }
}
