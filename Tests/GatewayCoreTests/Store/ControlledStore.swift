import Foundation
import GatewayCore
import Synchronization

/// A real in-memory SQLite store whose audit appends can be slowed down or made to fail.
final class ControlledStore: GatewayStore {
    struct AppendFailure: Error {}

    let base: SQLiteStore
    private let appendDelay: Duration
    private let failuresLeft: Mutex<Int>
    private let batchSizes = Mutex<[Int]>([])

    /// - Parameters:
    ///   - appendDelay: how long each append waits before writing.
    ///   - failingAppends: how many appends fail, without writing, before they succeed.
    init(appendDelay: Duration = .zero, failingAppends: Int = 0) throws {
        self.base = try SQLiteStore.inMemory()
        self.appendDelay = appendDelay
        self.failuresLeft = Mutex(failingAppends)
    }

    /// The size of every batch written, in order.
    var appendedBatchSizes: [Int] { batchSizes.withLock { $0 } }

    /// Every event written.
    var storedEventCount: Int {
        get async throws { try await base.auditStats(since: .distantPast).total }
    }

    func appendAudit(_ events: [AuditEvent]) async throws {
        try await Task.sleep(for: appendDelay)
        let fail = failuresLeft.withLock { left in
            defer { left = max(0, left - 1) }
            return left > 0
        }
        if fail { throw AppendFailure() }
        try await base.appendAudit(events)
        batchSizes.withLock { $0.append(events.count) }
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
