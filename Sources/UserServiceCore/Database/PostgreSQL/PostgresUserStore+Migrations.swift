import Logging
import PostgresNIO
import PostgresSupport

extension PostgresUserStore {
    /// The schema, one named migration per change, the same as SQLite's (``AppDatabase/migrator``);
    /// never edit a migration that has shipped.
    static let migrations: [(name: String, statements: [String])] = [
        (
            "createUser",
            [
                """
                CREATE TABLE users (
                    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    username text NOT NULL CONSTRAINT users_username_key UNIQUE,
                    email text NOT NULL,
                    password_hash text NOT NULL,
                    role text NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
                    created_at timestamptz NOT NULL
                )
                """,
                // Unique whatever its case, as SQLite's NOCASE column.
                "CREATE UNIQUE INDEX users_email_key ON users (lower(email))",
            ]
        ),
        (
            "createResource",
            [
                """
                CREATE TABLE resources (
                    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    owner_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                    name text NOT NULL,
                    content text NOT NULL,
                    created_at timestamptz NOT NULL,
                    updated_at timestamptz NOT NULL
                )
                """,
                "CREATE INDEX resources_owner_id ON resources (owner_id)",
            ]
        ),
    ]

    /// The key of the advisory lock that lets one userservice at a time migrate a database.
    static let migrationLock: Int64 = 0x7573_6572_7376_6300

    /// Applies the missing migrations, each in a transaction of its own that first takes ``migrationLock``, so
    /// that services starting together apply each migration once.
    static func migrate(_ settings: PostgresConnectionSettings, logger: Logger) async throws {
        let connection = try await PostgresConnection.connect(
            configuration: try settings.connectionConfiguration(),
            id: 0,
            logger: logger
        )
        do {
            for migration in Self.migrations {
                try await Self.apply(migration, on: connection, logger: logger)
            }
        } catch {
            try? await connection.close()
            throw error
        }
        try await connection.close()
    }

    private static func apply(
        _ migration: (name: String, statements: [String]),
        on connection: PostgresConnection,
        logger: Logger
    ) async throws {
        try await connection.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.migrationLock))", logger: logger)
            try await connection.query(
                """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    name text PRIMARY KEY,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """,
                logger: logger
            )
            let applied = try await connection.query(
                "SELECT 1 FROM schema_migrations WHERE name = \(migration.name)",
                logger: logger
            ).collect()
            guard applied.isEmpty else { return }
            for statement in migration.statements {
                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
            }
            try await connection.query(
                "INSERT INTO schema_migrations (name) VALUES (\(migration.name))",
                logger: logger
            )
            logger.info("Database migrated", metadata: ["userservice.migration": "\(migration.name)"])
        }
    }
}
