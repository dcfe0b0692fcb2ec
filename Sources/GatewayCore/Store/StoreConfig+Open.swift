import Logging
import PostgresSupport

extension StoreConfig {
    /// Opens the store this config names, migrating it to the current schema: the PostgreSQL
    /// database of `url` when set, else the SQLite file at `path` (created if missing).
    /// `nodeName` labels what this process appends to a shared audit trail.
    public func open(nodeName: String, logger: Logger) async throws -> any GatewayStore {
        if let postgres {
            return try await PostgresStore.open(postgres, nodeName: nodeName, logger: logger)
        }
        return try SQLiteStore(path: path)
    }

    /// Where the store is, for messages: the file path, or the URL (which never has a password).
    public var location: String { postgres.map { $0.url.description } ?? path }
}
