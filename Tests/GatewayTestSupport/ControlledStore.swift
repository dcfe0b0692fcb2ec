import Foundation
import GatewayCore
import Synchronization

/// A real in-memory SQLite store whose audit appends can be slowed down, as on a disk that
/// stalls, or made to fail. Everything else goes straight to the store.
public final class ControlledStore: GatewayStore {
    public struct AppendFailure: Error {}

    public let base: SQLiteStore
    private let appendDelay: Duration
    private let failuresLeft: Mutex<Int>
    private let batchSizes = Mutex<[Int]>([])
    private let started = Atomic<Int>(0)
    private let refusesWrites = Atomic<Bool>(false)
    private let holdsWriteChecks = Atomic<Bool>(false)
    private let holdsAppends = Atomic<Bool>(false)
    private let writeChecks = Atomic<Int>(0)

    /// - Parameters:
    ///   - appendDelay: how long each append waits before writing.
    ///   - failingAppends: how many appends fail, without writing, before they succeed.
    public init(appendDelay: Duration = .zero, failingAppends: Int = 0) throws {
        self.base = try SQLiteStore.inMemory()
        self.appendDelay = appendDelay
        self.failuresLeft = Mutex(failingAppends)
    }

    /// Makes ``checkWritable(at:)`` fail (as on a full or read-only disk) or pass again.
    public func refuseWrites(_ refuse: Bool) { refusesWrites.store(refuse, ordering: .relaxed) }

    /// Makes ``checkWritable(at:)`` wait until released, as on a stalled disk, or releases it.
    public func holdWriteChecks(_ hold: Bool) { holdsWriteChecks.store(hold, ordering: .relaxed) }

    /// Makes audit appends wait until released, as on a stalled disk, or releases them.
    public func holdAppends(_ hold: Bool) { holdsAppends.store(hold, ordering: .relaxed) }

    /// Calls of ``checkWritable(at:)`` begun so far.
    public var writeChecksStarted: Int { writeChecks.load(ordering: .relaxed) }

    /// The size of every batch written, in order.
    public var appendedBatchSizes: [Int] { batchSizes.withLock { $0 } }

    /// Appends begun so far, finished or not.
    public var appendsStarted: Int { started.load(ordering: .relaxed) }

    /// Every event written.
    public var storedEventCount: Int {
        get async throws { try await base.auditStats(since: .distantPast).total }
    }

    public func appendAudit(_ events: [AuditEvent]) async throws {
        started.add(1, ordering: .relaxed)
        try await Task.sleep(for: appendDelay)
        while holdsAppends.load(ordering: .relaxed) { try await Task.sleep(for: .milliseconds(5)) }
        let fail = failuresLeft.withLock { left in
            defer { left = max(0, left - 1) }
            return left > 0
        }
        if fail { throw AppendFailure() }
        try await base.appendAudit(events)
        batchSizes.withLock { $0.append(events.count) }
    }

    public func auditEvents(_ query: AuditQuery) async throws -> [StoredAuditEvent] { try await base.auditEvents(query) }
    public func auditStats(since: Date) async throws -> AuditStats { try await base.auditStats(since: since) }
    public func verifyAuditChain() async throws -> AuditChainReport { try await base.verifyAuditChain() }
    public func pruneAudit(olderThan: Date) async throws -> Int { try await base.pruneAudit(olderThan: olderThan) }
    public func addRevocation(_ revocation: Revocation) async throws { try await base.addRevocation(revocation) }
    public func revocations() async throws -> [Revocation] { try await base.revocations() }
    public func pruneRevocations(expiredBefore: Date) async throws -> Int { try await base.pruneRevocations(expiredBefore: expiredBefore) }

    public func saveJWKS(source: String, document: Data, fetchedAt: Date) async throws {
        try await base.saveJWKS(source: source, document: document, fetchedAt: fetchedAt)
    }

    public func lastGoodJWKS(source: String) async throws -> (document: Data, fetchedAt: Date)? {
        try await base.lastGoodJWKS(source: source)
    }

    public func saveRateLimitCounters(_ counters: [RateLimitCounter], resetKeys: [String], now: Int64) async throws
        -> [RateLimitCounter]
    {
        try await base.saveRateLimitCounters(counters, resetKeys: resetKeys, now: now)
    }

    public func rateLimitCounters(now: Int64, key: String?) async throws -> [RateLimitCounter] {
        try await base.rateLimitCounters(now: now, key: key)
    }

    public func resetRateLimits(key: String, at time: Date) async throws -> Int {
        try await base.resetRateLimits(key: key, at: time)
    }

    public func rateLimitResets(after: Int64) async throws -> [RateLimitReset] {
        try await base.rateLimitResets(after: after)
    }

    public var location: String { base.location }
    public func close() async { await base.close() }
    public func status() async throws -> StoreStatus { try await base.status() }
    public func exchangeLoginEvents(_ events: [LoginEvent]) async throws -> [LoginEvent] {
        try await base.exchangeLoginEvents(events)
    }

    public func installKey() async throws -> [UInt8] {
        try await base.installKey()
    }

    public func checkWritable(at time: Date) async throws {
        writeChecks.add(1, ordering: .relaxed)
        while holdsWriteChecks.load(ordering: .relaxed) { try await Task.sleep(for: .milliseconds(10)) }
        if refusesWrites.load(ordering: .relaxed) { throw AppendFailure() }
        try await base.checkWritable(at: time)
    }
}
