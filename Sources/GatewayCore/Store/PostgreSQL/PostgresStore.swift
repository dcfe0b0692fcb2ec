import Crypto
import Foundation
import Logging
import NIOCore
import PostgresNIO
import PostgresSupport
import Synchronization

/// The ``GatewayStore`` in a PostgreSQL database, shared by several gateways.
///
/// Each gateway writes its audit rows under its own node name, in a hash chain of its own; rate
/// limit counters are merged with atomic upserts (``saveRateLimitCounters(_:resetKeys:now:)``);
/// revocations, resets, the last good JWKS and the install key are one set for the whole fleet.
/// Every call is bounded by the statement timeout plus the connect timeout, so that a database
/// that went away makes calls fail, never hang.
public final class PostgresStore: GatewayStore {
    let client: PostgresClient
    let nodeName: String
    let logger: Logger
    /// How long one call may wait for a connection and its answer.
    let callLimit: Duration
    private let runner: Task<Void, Never>
    /// The server's time at the last pull of the fleet's rate limit counters.
    let lastPull = Mutex<Int64?>(nil)
    /// The server's time at the last pull of login events, and the ids pulled since shortly before it.
    let loginPull = Mutex<(at: Int64, ids: Set<Int64>)?>(nil)
    /// Audit appends that failed, perhaps after they committed; see ``appendAudit(_:)``.
    let unconfirmedAppends = Mutex(UnconfirmedAppends())
    /// Where the database is, for messages.
    public let location: String

    /// Connects (lazily: the pool opens connections on demand), migrates the schema to the current
    /// version, and returns the store. Throws when the database cannot be reached or migrated.
    public static func open(_ config: PostgresStoreConfig, nodeName: String, logger: Logger) async throws -> PostgresStore {
        let password = try PostgresPassword.load(
            file: config.passwordFile, credential: "store-password", environment: ProcessInfo.processInfo.environment)
        let settings = PostgresConnectionSettings(
            url: config.url, password: password, connectTimeout: config.connectTimeout,
            statementTimeout: config.statementTimeout, poolSize: config.poolSize, applicationName: "gateway \(nodeName)")
        let store = PostgresStore(
            client: PostgresClient(configuration: try settings.clientConfiguration(), backgroundLogger: logger),
            nodeName: nodeName, logger: logger, callLimit: config.connectTimeout + config.statementTimeout,
            location: config.url.description)
        do {
            try await store.migrate()
        } catch {
            await store.close()
            throw error
        }
        return store
    }

    private init(client: PostgresClient, nodeName: String, logger: Logger, callLimit: Duration, location: String) {
        self.client = client
        self.nodeName = nodeName
        self.logger = logger
        self.callLimit = callLimit
        self.location = location
        runner = Task { await client.run() }
    }

    /// Closes the pool's connections; calls after this fail.
    public func close() async {
        runner.cancel()
        await runner.value
    }

    /// `body` with a pooled connection, within ``callLimit``.
    func withConnection<Result: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> Result) async throws -> Result {
        let client = client
        return try await PostgresDeadline.run(within: callLimit) {
            try await client.withConnection { connection in try await body(connection) }
        }
    }

    /// `body` in one transaction, within ``callLimit``: committed when it returns, rolled back when it throws.
    func transaction<Result: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> Result) async throws -> Result {
        let (client, logger) = (client, logger)
        return try await PostgresDeadline.run(within: callLimit) {
            try await client.withTransaction(logger: logger) { connection in try await body(connection) }
        }
    }
}

extension PostgresStore {
    /// The schema, one step per change, each a list of statements; never edit a step that has
    /// shipped. Step `n` takes the schema from version `n` to `n + 1`.
    static let migrations: [[String]] = [
        [
            """
            CREATE TABLE audit_event (
                id bigserial PRIMARY KEY,
                node text NOT NULL,
                seq bigint NOT NULL,
                time_ms bigint NOT NULL,
                request_id text, client text, route text, method text, path text, subject text,
                type text NOT NULL, reason text, status bigint, token_fingerprint text,
                prev_hash text NOT NULL,
                hash text NOT NULL,
                UNIQUE (node, seq)
            )
            """,
            "CREATE INDEX audit_event_time ON audit_event (time_ms)",
            "CREATE INDEX audit_event_client ON audit_event (client)",
            "CREATE INDEX audit_event_subject ON audit_event (subject)",
            """
            CREATE TABLE audit_chain (
                node text PRIMARY KEY,
                checkpoint_seq bigint NOT NULL, checkpoint_hash text NOT NULL,
                head_seq bigint NOT NULL, head_hash text NOT NULL
            )
            """,
            """
            CREATE TABLE revocation (
                kind text NOT NULL, value text NOT NULL,
                revoked_at_ms bigint NOT NULL, expires_at_ms bigint,
                PRIMARY KEY (kind, value)
            )
            """,
            "CREATE INDEX revocation_expires ON revocation (expires_at_ms)",
            "CREATE TABLE jwks (source text PRIMARY KEY, document bytea NOT NULL, fetched_at_ms bigint NOT NULL)",
            "CREATE TABLE install_key (id int PRIMARY KEY CHECK (id = 1), key bytea NOT NULL)",
            """
            CREATE TABLE rate_limit (
                policy text NOT NULL, key text NOT NULL,
                tat_ns bigint NOT NULL,
                updated_at_ms bigint NOT NULL,
                PRIMARY KEY (policy, key)
            )
            """,
            "CREATE INDEX rate_limit_tat ON rate_limit (tat_ns)",
            "CREATE INDEX rate_limit_updated ON rate_limit (updated_at_ms)",
            "CREATE TABLE rate_limit_reset (id bigserial PRIMARY KEY, key text NOT NULL, requested_at_ms bigint NOT NULL)",
            "CREATE TABLE write_probe (node text PRIMARY KEY, written_at_ms bigint NOT NULL)",
        ],
        [
            """
            CREATE TABLE login_event (
                id bigserial PRIMARY KEY,
                node text NOT NULL,
                kind text NOT NULL, key text NOT NULL,
                at_ms bigint NOT NULL,
                failed boolean NOT NULL,
                recorded_at_ms bigint NOT NULL
            )
            """,
            "CREATE INDEX login_event_recorded ON login_event (recorded_at_ms)",
        ],
    ]

    /// The schema version this gateway writes.
    public static var schemaVersion: Int { migrations.count }

    /// Applies the missing steps in one transaction, one gateway at a time (an advisory
    /// lock); refuses a database a newer gateway has migrated further.
    func migrate() async throws {
        let key = SymmetricKey(size: .bits256).withUnsafeBytes { ByteBuffer(bytes: $0) }
        let location = location
        try await transaction { connection in
            let logger = Logger(label: "gateway.store.migrate")
            try await connection.query("SELECT pg_advisory_xact_lock(7146230581)", logger: logger)
            try await connection.query(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
                logger: logger)
            var applied = 0
            for try await version in try await connection.query("SELECT COALESCE(max(version), 0) FROM schema_migrations", logger: logger)
                .decode(Int.self)
            {
                applied = version
            }
            guard applied <= Self.migrations.count else { throw StoreError.newerSchema(location) }
            for (index, step) in Self.migrations.enumerated().dropFirst(applied) {
                for statement in step { try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger) }
                try await connection.query("INSERT INTO schema_migrations (version) VALUES (\(index + 1))", logger: logger)
            }
            try await connection.query(
                "INSERT INTO install_key (id, key) VALUES (1, \(key)) ON CONFLICT (id) DO NOTHING", logger: logger)
        }
    }

    public func status() async throws -> StoreStatus {
        try await withConnection { connection in
            var status = StoreStatus(
                engine: "postgresql", schemaVersion: 0, currentSchemaVersion: Self.schemaVersion,
                auditEvents: 0, revocations: 0, rateLimitCounters: 0, nodes: [])
            for try await (version, audit, revocations, counters) in try await connection.query(
                """
                SELECT (SELECT COALESCE(max(version), 0) FROM schema_migrations), (SELECT count(*) FROM audit_event),
                       (SELECT count(*) FROM revocation), (SELECT count(*) FROM rate_limit)
                """, logger: self.logger
            ).decode((Int, Int, Int, Int).self) {
                (status.schemaVersion, status.auditEvents, status.revocations, status.rateLimitCounters) =
                    (version, audit, revocations, counters)
            }
            for try await (node, appended, newest) in try await connection.query(
                """
                SELECT node, head_seq, (SELECT max(time_ms) FROM audit_event WHERE audit_event.node = audit_chain.node)
                FROM audit_chain ORDER BY node
                """, logger: self.logger
            ).decode((String, Int, Int64?).self) {
                status.nodes.append(
                    StoreStatus.Node(name: node, eventsAppended: appended, newestEvent: newest.map(Date.init(storeMilliseconds:))))
            }
            return status
        }
    }
}

extension PostgresStore {
    public func installKey() async throws -> [UInt8] {
        try await withConnection { connection in
            for try await key in try await connection.query("SELECT key FROM install_key WHERE id = 1", logger: self.logger)
                .decode(ByteBuffer.self) where key.readableBytes == 32
            {
                return Array(key.readableBytesView)
            }
            throw StoreError.unreadableRow(in: "install_key", "the key is missing or not 32 bytes")
        }
    }

    public func checkWritable(at time: Date) async throws {
        let milliseconds = time.storeMilliseconds
        try await withConnection { connection in
            _ = try await connection.query(
                """
                INSERT INTO write_probe (node, written_at_ms) VALUES (\(self.nodeName), \(milliseconds))
                ON CONFLICT (node) DO UPDATE SET written_at_ms = excluded.written_at_ms
                """, logger: self.logger)
        }
    }

    public func saveJWKS(source: String, document: Data, fetchedAt: Date) async throws {
        let (bytes, milliseconds) = (ByteBuffer(bytes: document), fetchedAt.storeMilliseconds)
        try await withConnection { connection in
            _ = try await connection.query(
                """
                INSERT INTO jwks (source, document, fetched_at_ms) VALUES (\(source), \(bytes), \(milliseconds))
                ON CONFLICT (source) DO UPDATE SET document = excluded.document, fetched_at_ms = excluded.fetched_at_ms
                """, logger: self.logger)
        }
    }

    public func lastGoodJWKS(source: String) async throws -> (document: Data, fetchedAt: Date)? {
        let found: (Data, Int64)? = try await withConnection { connection in
            for try await (document, fetched) in try await connection.query(
                "SELECT document, fetched_at_ms FROM jwks WHERE source = \(source)", logger: self.logger
            ).decode((ByteBuffer, Int64).self) {
                return (Data(document.readableBytesView), fetched)
            }
            return nil
        }
        return found.map { ($0.0, Date(storeMilliseconds: $0.1)) }
    }

    public func addRevocation(_ revocation: Revocation) async throws {
        let stored = revocation.stored
        let (revoked, expires) = (revocation.revokedAt.storeMilliseconds, revocation.expiresAt?.storeMilliseconds)
        try await withConnection { connection in
            _ = try await connection.query(
                """
                INSERT INTO revocation (kind, value, revoked_at_ms, expires_at_ms) VALUES (\(stored.kind), \(stored.value), \(revoked), \(expires))
                ON CONFLICT (kind, value) DO UPDATE SET revoked_at_ms = excluded.revoked_at_ms, expires_at_ms = excluded.expires_at_ms
                """, logger: self.logger)
        }
    }

    public func revocations() async throws -> [Revocation] {
        try await withConnection { connection in
            var revocations: [Revocation] = []
            for try await (kind, value, revoked, expires) in try await connection.query(
                "SELECT kind, value, revoked_at_ms, expires_at_ms FROM revocation ORDER BY kind, value", logger: self.logger
            ).decode((String, String, Int64, Int64?).self) {
                revocations.append(
                    try Revocation(
                        storedKind: kind, value: value, revokedAt: Date(storeMilliseconds: revoked),
                        expiresAt: expires.map(Date.init(storeMilliseconds:))))
            }
            return revocations
        }
    }

    public func pruneRevocations(expiredBefore cutoff: Date) async throws -> Int {
        let cutoff = cutoff.storeMilliseconds
        return try await withConnection { connection in
            try await connection.count("DELETE FROM revocation WHERE expires_at_ms < \(cutoff) RETURNING 1", logger: self.logger)
        }
    }
}

extension PostgresConnection {
    /// Runs `query` and counts the rows it returns (`DELETE … RETURNING 1` counts what it deleted).
    func count(_ query: PostgresQuery, logger: Logger) async throws -> Int {
        var count = 0
        for try await _ in try await self.query(query, logger: logger) { count += 1 }
        return count
    }
}
