import Foundation
import PostgresNIO
import Synchronization

/// The server's clock in milliseconds: rows are stamped by one clock, whatever the gateways' clocks say.
private let serverMilliseconds = "(extract(epoch FROM clock_timestamp()) * 1000)::bigint"

extension PostgresStore {
    /// How far back each pull looks before the previous one, for rows whose transaction
    /// committed after that pull although stamped before it.
    static let pullOverlapMilliseconds: Int64 = 2_000

    /// Adds each counter's `spent` to the fleet's: `tat = max(tat, now) + spent`, atomically per
    /// row, so concurrent gateways never overwrite each other's share. A counter new to the
    /// store takes this gateway's `tat`. Returns every counter changed by any gateway since the
    /// previous call (and not yet full again).
    public func saveRateLimitCounters(_ counters: [RateLimitCounter], resetKeys: [String], now: Int64) async throws
        -> [RateLimitCounter]
    {
        let since = lastPull.withLock { $0 }.map { $0 - Self.pullOverlapMilliseconds } ?? 0
        let (policies, keys) = (counters.map(\.policy), counters.map(\.key))
        let (tats, spents) = (counters.map(\.tat), counters.map(\.spent))
        let (shared, pulledAt) = try await transaction { connection in
            var pulledAt: Int64 = 0
            for try await time in try await connection.query("SELECT \(unescaped: serverMilliseconds)", logger: self.logger)
                .decode(Int64.self)
            {
                pulledAt = time
            }
            if !resetKeys.isEmpty {
                try await connection.query("DELETE FROM rate_limit WHERE key = ANY(\(resetKeys))", logger: self.logger)
            }
            if !counters.isEmpty {
                try await connection.query(
                    """
                    WITH change AS (SELECT * FROM unnest(\(policies)::text[], \(keys)::text[], \(tats)::int8[], \(spents)::int8[])
                                    AS c(policy, key, tat, spent))
                    INSERT INTO rate_limit (policy, key, tat_ns, updated_at_ms)
                    SELECT policy, key, tat, \(unescaped: serverMilliseconds) FROM change WHERE tat > \(now)
                    ON CONFLICT (policy, key) DO UPDATE SET
                        tat_ns = GREATEST(rate_limit.tat_ns, \(now))
                            + (SELECT spent FROM change WHERE change.policy = excluded.policy AND change.key = excluded.key),
                        updated_at_ms = excluded.updated_at_ms
                    """, logger: self.logger)
            }
            try await connection.query("DELETE FROM rate_limit WHERE tat_ns <= \(now)", logger: self.logger)
            var shared: [RateLimitCounter] = []
            for try await (policy, key, tat) in try await connection.query(
                "SELECT policy, key, tat_ns FROM rate_limit WHERE updated_at_ms >= \(since) AND tat_ns > \(now)", logger: self.logger
            ).decode((String, String, Int64).self) {
                shared.append(RateLimitCounter(policy: policy, key: key, tat: tat))
            }
            return (shared, pulledAt)
        }
        lastPull.withLock { $0 = pulledAt }
        return shared
    }

    public func rateLimitCounters(now: Int64, key: String?) async throws -> [RateLimitCounter] {
        try await withConnection { connection in
            var counters: [RateLimitCounter] = []
            let query: PostgresQuery =
                if let key {
                    "SELECT policy, key, tat_ns FROM rate_limit WHERE tat_ns > \(now) AND key = \(key) ORDER BY policy, key"
                } else {
                    "SELECT policy, key, tat_ns FROM rate_limit WHERE tat_ns > \(now) ORDER BY policy, key"
                }
            for try await (policy, key, tat) in try await connection.query(query, logger: self.logger).decode((String, String, Int64).self)
            {
                counters.append(RateLimitCounter(policy: policy, key: key, tat: tat))
            }
            return counters
        }
    }

    public func resetRateLimits(key: String, at time: Date) async throws -> Int {
        let (requested, dayAgo) = (time.storeMilliseconds, time.addingTimeInterval(-86_400).storeMilliseconds)
        return try await transaction { connection in
            let deleted = try await connection.count("DELETE FROM rate_limit WHERE key = \(key) RETURNING 1", logger: self.logger)
            try await connection.query(
                "INSERT INTO rate_limit_reset (key, requested_at_ms) VALUES (\(key), \(requested))", logger: self.logger)
            // Running gateways poll every sync interval; a day-old reset has long been applied.
            try await connection.query("DELETE FROM rate_limit_reset WHERE requested_at_ms < \(dayAgo)", logger: self.logger)
            return deleted
        }
    }

    public func rateLimitResets(after: Int64) async throws -> [RateLimitReset] {
        try await withConnection { connection in
            var resets: [RateLimitReset] = []
            for try await (id, key, requested) in try await connection.query(
                "SELECT id, key, requested_at_ms FROM rate_limit_reset WHERE id > \(after) ORDER BY id", logger: self.logger
            ).decode((Int64, String, Int64).self) {
                resets.append(RateLimitReset(id: id, key: key, requestedAt: Date(storeMilliseconds: requested)))
            }
            return resets
        }
    }
}

extension PostgresStore {
    /// How long login events are kept: the longest `[login_protection] window`.
    static let loginEventLifetimeMilliseconds: Int64 = 86_400_000

    /// Inserts `events` stamped with this node and the server's clock, deletes those older than a
    /// day, and returns the other nodes' events stamped since shortly before the previous call,
    /// each once; the first call returns this node's too, so a restarted gateway keeps its locks.
    public func exchangeLoginEvents(_ events: [LoginEvent]) async throws -> [LoginEvent] {
        let previous = loginPull.withLock { $0 }
        let since = previous.map { $0.at - Self.pullOverlapMilliseconds } ?? 0
        let (node, first) = (nodeName, previous == nil)
        let (kinds, keys) = (events.map(\.kind.rawValue), events.map(\.key))
        let (times, failures) = (events.map(\.time.storeMilliseconds), events.map(\.failed))
        let (pulled, pulledAt) = try await transaction { connection in
            var pulledAt: Int64 = 0
            for try await time in try await connection.query("SELECT \(unescaped: serverMilliseconds)", logger: self.logger)
                .decode(Int64.self)
            {
                pulledAt = time
            }
            if !events.isEmpty {
                _ = try await connection.query(
                    """
                    INSERT INTO login_event (node, kind, key, at_ms, failed, recorded_at_ms)
                    SELECT \(node), kind, key, at, failed, \(pulledAt)
                    FROM unnest(\(kinds)::text[], \(keys)::text[], \(times)::int8[], \(failures)::bool[]) AS e(kind, key, at, failed)
                    """, logger: self.logger)
            }
            _ = try await connection.query(
                "DELETE FROM login_event WHERE recorded_at_ms < \(pulledAt - Self.loginEventLifetimeMilliseconds)", logger: self.logger)
            var pulled: [(id: Int64, recorded: Int64, event: LoginEvent)] = []
            for try await (id, kind, key, time, failed, recorded) in try await connection.query(
                """
                SELECT id, kind, key, at_ms, failed, recorded_at_ms FROM login_event
                WHERE recorded_at_ms >= \(since) AND (node <> \(node) OR \(first)) ORDER BY id
                """, logger: self.logger
            ).decode((Int64, String, String, Int64, Bool, Int64).self) {
                guard let kind = LoginEvent.Kind(rawValue: kind) else {
                    throw StoreError.unreadableRow(in: "login_event", "row \(id) has the unknown kind \(kind.debugDescription)")
                }
                pulled.append((id, recorded, LoginEvent(kind: kind, key: key, time: Date(storeMilliseconds: time), failed: failed)))
            }
            return (pulled, pulledAt)
        }
        let seen = previous?.ids ?? []
        // The next pull looks back over the overlap again: remember what it will see twice.
        let overlap = Set(pulled.filter { $0.recorded >= pulledAt - Self.pullOverlapMilliseconds }.map(\.id))
        loginPull.withLock { $0 = (pulledAt, overlap) }
        return pulled.filter { !seen.contains($0.id) }.map(\.event)
    }
}
