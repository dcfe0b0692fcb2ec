import GRDB

/// The ``UserStore`` in a SQLite database.
///
/// It wraps any `DatabaseWriter` (a `DatabasePool` for a file, a `DatabaseQueue` in memory) and makes
/// sure the schema is migrated before anyone uses it. Reads and writes are focused, invariant-keeping methods
/// declared in `AppDatabase+…` extensions.
struct AppDatabase: UserStore {
    /// Access to the database, for the extensions of this type only.
    let dbWriter: any DatabaseWriter

    /// Wraps a database connection and migrates its schema to the latest version.
    init(_ dbWriter: any DatabaseWriter) throws {
        self.dbWriter = dbWriter
        try Self.migrator.migrate(dbWriter)
    }

    /// Opens the database at `path`: a WAL-mode `DatabasePool` for a file, a `DatabaseQueue` for ":memory:".
    static func open(path: String) throws -> AppDatabase {
        let configuration = Self.makeConfiguration()
        if path == ":memory:" {
            return try AppDatabase(DatabaseQueue(configuration: configuration))
        }
        return try AppDatabase(DatabasePool(path: path, configuration: configuration))
    }

    /// The connection settings shared by every database the service opens.
    static func makeConfiguration() -> Configuration {
        var configuration = Configuration()
        // The CLI may write (grant-admin) while the daemon runs: wait for the lock rather than fail at once.
        configuration.busyMode = .timeout(5)
        return configuration
    }
}
