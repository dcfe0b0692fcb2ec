import Logging
import PostgresNIO

extension UserServiceDatabase {
    /// Opens the store and migrates its schema.
    ///
    /// For PostgreSQL it also returns the client the store queries through: run it (it is a ServiceLifecycle
    /// `Service`) for as long as the store is used.
    func openStore(logger: Logger) async throws -> (store: any UserStore, client: PostgresClient?) {
        switch self {
        case .sqlite(let path):
            return (try AppDatabase.open(path: path), nil)
        case .postgres(let settings):
            let store = try await PostgresUserStore.open(settings, logger: logger)
            return (store, store.client)
        }
    }

    /// Runs `body` with the opened store, and its client running meanwhile.
    func withStore<Result: Sendable>(
        logger: Logger,
        _ body: (any UserStore) async throws -> Result
    ) async throws -> Result {
        let (store, client) = try await self.openStore(logger: logger)
        guard let client else { return try await body(store) }
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            return try await body(store)
        }
    }
}
