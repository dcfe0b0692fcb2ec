import Foundation
import Logging
import PostgresNIO
import Synchronization

/// The columns of `audit_event` a row's hash covers, in ``AuditHash`` order, after `prev_hash`.
private let hashedColumns =
    "prev_hash, node, seq, time_ms, request_id, client, route, method, path, subject, type, reason, status, token_fingerprint"

/// One row of `audit_event` as read back: what its hash covers, and the stored hash.
private typealias AuditRow = (
    String, String, Int64, Int64, String?, String?, String?, String?, String?, String?, String, String?, Int64?, String?, String
)

extension PostgresStore {
    /// Appends `events` to this node's chain in one transaction of one INSERT.
    ///
    /// A call can fail after the server committed (the answer to COMMIT lost with the connection,
    /// or late past the deadline), and the recorder then retries the same events at the head of
    /// its batch. So each attempt remembers the seq and hash of the last row it wrote; a retry
    /// first looks for those rows and skips what an earlier attempt did commit, and no event is
    /// written twice.
    public func appendAudit(_ events: [AuditEvent]) async throws {
        guard !events.isEmpty else { return }
        let node = nodeName
        let earlier = unconfirmedAppends.withLock { unconfirmed in
            if !events.starts(with: unconfirmed.events) { unconfirmed = UnconfirmedAppends() }
            return unconfirmed
        }
        try await transaction { connection in
            _ = try await connection.query(
                """
                INSERT INTO audit_chain (node, checkpoint_seq, checkpoint_hash, head_seq, head_hash)
                VALUES (\(node), 0, \(AuditHash.genesis), 0, \(AuditHash.genesis)) ON CONFLICT (node) DO NOTHING
                """, logger: self.logger)
            var (headSeq, headHash) = (Int64(0), AuditHash.genesis)
            for try await head in try await connection.query(
                "SELECT head_seq, head_hash FROM audit_chain WHERE node = \(node) FOR UPDATE", logger: self.logger
            ).decode((Int64, String).self) {
                (headSeq, headHash) = head
            }
            var committed = 0
            for mark in earlier.marks.reversed() where committed == 0 {
                let found = try await connection.count(
                    "SELECT 1 FROM audit_event WHERE node = \(node) AND seq = \(mark.seq) AND hash = \(mark.hash)", logger: self.logger)
                if found > 0 { committed = mark.count }
            }
            var binds = PostgresBindings()
            var rows: [String] = []
            for event in events.dropFirst(committed) {
                headSeq += 1
                let row = StoredRow(node: node, seq: headSeq, event: event, previousHash: headHash)
                headHash = row.hash
                let first = binds.count + 1
                binds.append(row.previousHash)
                binds.append(node)
                binds.append(row.seq)
                binds.append(row.time)
                binds.append(event.requestID)
                binds.append(event.client)
                binds.append(event.route)
                binds.append(event.method)
                binds.append(event.path)
                binds.append(event.subject)
                binds.append(event.type.rawValue)
                binds.append(event.reason)
                binds.append(row.status)
                binds.append(event.tokenFingerprint)
                binds.append(row.hash)
                rows.append("(" + (first..<binds.count + 1).map { "$\($0)" }.joined(separator: ", ") + ")")
            }
            guard !rows.isEmpty else { return }
            _ = try await connection.query(
                PostgresQuery(
                    unsafeSQL: "INSERT INTO audit_event (\(hashedColumns), hash) VALUES \(rows.joined(separator: ", "))",
                    binds: binds),
                logger: self.logger)
            _ = try await connection.query(
                "UPDATE audit_chain SET head_seq = \(headSeq), head_hash = \(headHash) WHERE node = \(node)", logger: self.logger)
            let mark = UnconfirmedAppends.Mark(count: events.count, seq: headSeq, hash: headHash)
            self.unconfirmedAppends.withLock { $0 = UnconfirmedAppends(events: events, marks: earlier.marks + [mark]) }
        }
        unconfirmedAppends.withLock { $0 = UnconfirmedAppends() }
    }

    public func auditEvents(_ query: AuditQuery) async throws -> [StoredAuditEvent] {
        var conditions: [String] = []
        var binds = PostgresBindings()
        func condition(_ sql: String, _ value: some PostgresNonThrowingEncodable & Sendable) {
            binds.append(value)
            conditions.append("\(sql) $\(binds.count)")
        }
        if let since = query.since { condition("time_ms >=", since.storeMilliseconds) }
        if let type = query.type { condition("type =", type.rawValue) }
        if let subject = query.subject { condition("subject =", subject) }
        if let client = query.client { condition("client =", client) }
        binds.append(query.limit)
        let sql = """
            SELECT id, node, time_ms, request_id, client, route, method, path, subject, type, reason, status, token_fingerprint
            FROM audit_event \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "))
            ORDER BY id DESC LIMIT $\(binds.count)
            """
        let statement = PostgresQuery(unsafeSQL: sql, binds: binds)
        return try await withConnection { connection in
            var events: [StoredAuditEvent] = []
            let rows = try await connection.query(statement, logger: self.logger)
            for try await (id, node, time, requestID, client, route, method, path, subject, type, reason, status, fingerprint)
                in rows.decode(
                    (Int64, String, Int64, String?, String?, String?, String?, String?, String?, String, String?, Int64?, String?).self)
            {
                guard let eventType = AuditEventType(rawValue: type) else {
                    throw StoreError.unreadableRow(in: "audit_event", "row \(id) has the unknown type \(type.debugDescription)")
                }
                let event = AuditEvent(
                    time: Date(storeMilliseconds: time), type: eventType, requestID: requestID, client: client, route: route,
                    method: method, path: path, subject: subject, reason: reason, status: status.map(Int.init),
                    tokenFingerprint: fingerprint)
                events.append(StoredAuditEvent(id: id, node: node, event: event))
            }
            return events
        }
    }

    public func auditStats(since: Date) async throws -> AuditStats {
        let since = since.storeMilliseconds
        return try await withConnection { connection in
            var countsByType: [AuditEventType: Int] = [:]
            for try await (name, count) in try await connection.query(
                "SELECT type, count(*) FROM audit_event WHERE time_ms >= \(since) GROUP BY type", logger: self.logger
            ).decode((String, Int64).self) {
                guard let type = AuditEventType(rawValue: name) else {
                    throw StoreError.unreadableRow(in: "audit_event", "unknown type \(name.debugDescription)")
                }
                countsByType[type] = Int(count)
            }
            return AuditStats(
                countsByType: countsByType,
                topClients: try await Self.top("client", since: since, connection, logger: self.logger),
                topSubjects: try await Self.top("subject", since: since, connection, logger: self.logger))
        }
    }

    /// The values of `column` with the most events since `since`, most first, ties by value.
    private static func top(_ column: String, since: Int64, _ connection: PostgresConnection, logger: Logger) async throws -> [AuditCount] {
        var counts: [AuditCount] = []
        for try await (value, count) in try await connection.query(
            """
            SELECT \(unescaped: column), count(*) AS n FROM audit_event WHERE time_ms >= \(since) AND \(unescaped: column) IS NOT NULL
            GROUP BY \(unescaped: column) ORDER BY n DESC, \(unescaped: column) COLLATE "C" LIMIT \(AuditStats.topLimit)
            """, logger: logger
        ).decode((String, Int64).self) {
            counts.append(AuditCount(value: value, count: Int(count)))
        }
        return counts
    }

    /// Walks every node's chain from its checkpoint; the first break found is reported with its node.
    public func verifyAuditChain() async throws -> AuditChainReport {
        try await withConnection { connection in
            var chains: [String: (checkpointSeq: Int64, checkpointHash: String, headSeq: Int64, headHash: String)] = [:]
            for try await (node, checkpointSeq, checkpointHash, headSeq, headHash) in try await connection.query(
                "SELECT node, checkpoint_seq, checkpoint_hash, head_seq, head_hash FROM audit_chain", logger: self.logger
            ).decode((String, Int64, String, Int64, String).self) {
                chains[node] = (checkpointSeq, checkpointHash, headSeq, headHash)
            }
            // Rows of a node without a chain row (deleted by hand) are checked against an empty chain.
            for try await node in try await connection.query("SELECT DISTINCT node FROM audit_event", logger: self.logger).decode(
                String.self)
            where chains[node] == nil {
                chains[node] = (0, AuditHash.genesis, 0, AuditHash.genesis)
            }
            var total = 0
            for node in chains.keys.sorted() {
                let chain = chains[node]!
                var walk = AuditChainWalk(checkpointID: chain.checkpointSeq, checkpointHash: chain.checkpointHash)
                let rows = try await connection.query(
                    "SELECT \(unescaped: hashedColumns), hash FROM audit_event WHERE node = \(node) ORDER BY seq", logger: self.logger)
                for try await row in rows.decode(AuditRow.self) {
                    let fields = StoredRow.hashFields(row)
                    if var broken = walk.check(id: row.2, fields: fields, previousHash: fields[0], hash: .text(row.14)) {
                        broken.node = node
                        return .broken(broken)
                    }
                }
                switch walk.finish(headID: chain.headSeq, headHash: chain.headHash) {
                case .intact(let events): total += events
                case .broken(var broken):
                    broken.node = node
                    return .broken(broken)
                }
            }
            return .intact(events: total)
        }
    }

    /// Per node, deletes the oldest rows before `cutoff`, a prefix of its chain, and moves its checkpoint.
    public func pruneAudit(olderThan cutoff: Date) async throws -> Int {
        let cutoff = cutoff.storeMilliseconds
        return try await transaction { connection in
            var deleted = 0
            var nodes: [String] = []
            for try await node in try await connection.query("SELECT node FROM audit_chain ORDER BY node FOR UPDATE", logger: self.logger)
                .decode(String.self)
            {
                nodes.append(node)
            }
            for node in nodes {
                // Only a prefix in seq order may go: everything before the node's first row that is not older.
                var last: (seq: Int64, hash: String)?
                for try await row in try await connection.query(
                    """
                    SELECT seq, hash FROM audit_event WHERE node = \(node)
                      AND seq < COALESCE((SELECT min(seq) FROM audit_event WHERE node = \(node) AND time_ms >= \(cutoff)), 9223372036854775807)
                    ORDER BY seq DESC LIMIT 1
                    """, logger: self.logger
                ).decode((Int64, String).self) {
                    last = row
                }
                guard let last else { continue }
                try await connection.query(
                    "UPDATE audit_chain SET checkpoint_seq = \(last.seq), checkpoint_hash = \(last.hash) WHERE node = \(node)",
                    logger: self.logger)
                deleted += try await connection.count(
                    "DELETE FROM audit_event WHERE node = \(node) AND seq <= \(last.seq) RETURNING 1", logger: self.logger)
            }
            return deleted
        }
    }
}

/// An audit row about to be written: its place in its node's chain and its hash.
private struct StoredRow {
    let previousHash: String
    let seq: Int64
    let time: Int64
    let status: Int64?
    let hash: String

    init(node: String, seq: Int64, event: AuditEvent, previousHash: String) {
        self.previousHash = previousHash
        self.seq = seq
        self.time = event.time.storeMilliseconds
        self.status = event.status.map(Int64.init)
        self.hash = AuditHash.hash(
            Self.hashFields(
                (
                    previousHash, node, seq, time, event.requestID, event.client, event.route, event.method, event.path,
                    event.subject, event.type.rawValue, event.reason, status, event.tokenFingerprint, ""
                )))
    }

    /// A row's hashed columns as ``AuditHash`` fields, `prev_hash` first (its stored hash, last, is not one).
    static func hashFields(_ row: AuditRow) -> [AuditHash.Field] {
        func text(_ value: String?) -> AuditHash.Field { value.map(AuditHash.Field.text) ?? .null }
        return [
            .text(row.0), .text(row.1), .integer(row.2), .integer(row.3), text(row.4), text(row.5), text(row.6), text(row.7),
            text(row.8), text(row.9), .text(row.10), text(row.11), row.12.map(AuditHash.Field.integer) ?? .null, text(row.13),
        ]
    }
}

/// The audit appends of this process whose outcome it did not learn: the events of the last failed
/// call and, for each attempt at them, the last row it would have committed.
struct UnconfirmedAppends: Sendable {
    struct Mark: Sendable {
        /// How many of ``UnconfirmedAppends/events`` the attempt's rows cover, from the first.
        let count: Int
        let seq: Int64
        let hash: String
    }

    var events: [AuditEvent] = []
    var marks: [Mark] = []
}
