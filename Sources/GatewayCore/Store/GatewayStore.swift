import Foundation

/// The one way in and out of the gateway's persistent state: audit events, token revocations and
/// the last good JWKS of each key source.
///
/// SQLite implements it for one gateway (``SQLiteStore``), PostgreSQL for several (``PostgresStore``). Every method may wait on
/// disk, so none is ever called from an event loop: the data plane hands audit events to an
/// ``AuditRecorder`` and reads revocations and keys from in-memory snapshots.
public protocol GatewayStore: Sendable {
    /// Appends `events` in one transaction, each chained to the hash of the one before.
    func appendAudit(_ events: [AuditEvent]) async throws

    /// The events matching `query`, newest first.
    func auditEvents(_ query: AuditQuery) async throws -> [StoredAuditEvent]

    /// Counts of the events at or after `since`: by type, and for the busiest clients and subjects.
    func auditStats(since: Date) async throws -> AuditStats

    /// Walks the audit chain from the last retention checkpoint and reports the first row that
    /// was edited, is missing or does not link to the one before.
    func verifyAuditChain() async throws -> AuditChainReport

    /// Deletes the oldest events, those before `olderThan`, keeping the chain verifiable from
    /// a checkpoint. Returns how many were deleted.
    func pruneAudit(olderThan: Date) async throws -> Int

    /// Stores a revocation, replacing an earlier one of the same token id or subject.
    func addRevocation(_ revocation: Revocation) async throws

    /// Every stored revocation.
    func revocations() async throws -> [Revocation]

    /// Deletes the revocations whose ``Revocation/expiresAt`` is before `expiredBefore`.
    /// Returns how many were deleted.
    func pruneRevocations(expiredBefore: Date) async throws -> Int

    /// Keeps `document` as the last good JWKS fetched from `source` (its URL).
    func saveJWKS(source: String, document: Data, fetchedAt: Date) async throws

    /// The JWKS last saved for `source`, if any.
    func lastGoodJWKS(source: String) async throws -> (document: Data, fetchedAt: Date)?

    /// In one transaction: deletes every counter of the `resetKeys`, writes the counters that
    /// changed, and deletes every counter whose `tat` is at or before `now` (back at its full quota).
    ///
    /// A store of one gateway keeps each counter's `tat`; a store shared by several adds each
    /// counter's ``RateLimitCounter/spent`` to the fleet's counter and returns the counters any
    /// gateway changed lately, for ``RateLimiter/merge(_:now:)``.
    func saveRateLimitCounters(_ counters: [RateLimitCounter], resetKeys: [String], now: Int64) async throws -> [RateLimitCounter]

    /// The stored rate limit counters still short of their full quota at `now`; only those of
    /// `key` when given.
    func rateLimitCounters(now: Int64, key: String?) async throws -> [RateLimitCounter]

    /// Deletes every counter of `key` and records the reset for running gateways to apply.
    /// Returns how many counters were deleted.
    func resetRateLimits(key: String, at time: Date) async throws -> Int

    /// The resets recorded after the one numbered `after` (0 for all), oldest first.
    func rateLimitResets(after: Int64) async throws -> [RateLimitReset]

    /// Shares this gateway's login outcomes with the others. A store several gateways share keeps
    /// `events` (a day at most, the longest login window) and returns those the other gateways
    /// recorded since the previous call; a store of one gateway keeps none and returns none.
    func exchangeLoginEvents(_ events: [LoginEvent]) async throws -> [LoginEvent]

    /// This install's random 32-byte key, made when the store was created: fingerprints of
    /// personal data (usernames) are keyed with it, so they cannot be looked up in a table made
    /// elsewhere or matched across installs.
    func installKey() async throws -> [UInt8]

    /// Writes and commits one small row, proving the store takes writes (`/readyz`).
    func checkWritable(at time: Date) async throws

    /// The schema version and the size of each table, for `gateway store status`.
    func status() async throws -> StoreStatus

    /// Where the store is, for messages: a file path or a URL without password.
    var location: String { get }

    /// Lets go of the database (connections, files); calls after this fail.
    func close() async
}
