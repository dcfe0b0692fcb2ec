import PostgresSupport
import PostgresTestSupport
import Testing
import UserServiceCore

/// The database engines every behaviour of the service is checked against.
enum Engine: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    var testDescription: String { self.rawValue }

    private static let databaseCreations = Gate(limit: 2)

    /// A fresh, empty database: in memory for SQLite, a new database on the test server for PostgreSQL.
    func makeDatabase() async throws -> UserServiceDatabase {
        switch self {
        case .sqlite: return .sqlite(path: ":memory:")
        case .postgres: return .postgres(try Self.postgresSettings(url: try await Self.makePostgresDatabase()))
        }
    }

    /// Runs `body` with a fresh database that outlives one application: a file for SQLite, removed afterwards.
    func withPersistentDatabase<Value>(_ body: (UserServiceDatabase) async throws -> Value) async throws -> Value {
        switch self {
        case .sqlite: try await withTemporaryDatabasePath { path in try await body(.sqlite(path: path)) }
        case .postgres: try await body(try await self.makeDatabase())
        }
    }

    /// The URL of a new, empty database on the test server.
    static func makePostgresDatabase() async throws -> PostgresURL {
        try await Self.databaseCreations.pass { try await TestPostgres.makeDatabase(prefix: "userservice") }
    }

    /// Settings for the test server's `url`, with timeouts generous enough for a busy machine.
    static func postgresSettings(url: PostgresURL) throws -> PostgresConnectionSettings {
        PostgresConnectionSettings(
            url: url,
            password: try TestPostgres.password(),
            connectTimeout: .seconds(30),
            statementTimeout: .seconds(30),
            poolSize: 2,
            applicationName: "userservice-tests"
        )
    }
}
