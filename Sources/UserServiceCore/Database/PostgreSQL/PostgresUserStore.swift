import Logging
import PostgresNIO
import PostgresSupport

/// The ``UserStore`` in a PostgreSQL database.
///
/// Queries go through ``client``, a connection pool that must run (it is a ServiceLifecycle `Service`) for as long
/// as the store is used. Each call waits at most the connect timeout plus the statement timeout, so a database that
/// went away makes requests fail instead of hang. Values are always bound as parameters, never spliced into SQL.
struct PostgresUserStore: UserStore {
    /// The connection pool the store queries through.
    let client: PostgresClient
    /// How long one call may wait for a connection and its answer.
    let callLimit: Duration
    let logger: Logger

    /// Migrates the database, then returns a store whose ``client`` is yet to run.
    ///
    /// The migrations use a connection of their own, outside the pool, so that a refused TLS handshake or login is
    /// reported with its own reason at startup rather than retried in the background.
    /// - Throws: ``UserServiceError/databaseUnavailable(_:reason:)`` when the database cannot be reached or migrated.
    static func open(_ settings: PostgresConnectionSettings, logger: Logger) async throws -> PostgresUserStore {
        do {
            try await Self.migrate(settings, logger: logger)
            return PostgresUserStore(
                client: PostgresClient(configuration: try settings.clientConfiguration(), backgroundLogger: logger),
                callLimit: settings.connectTimeout + settings.statementTimeout,
                logger: logger
            )
        } catch {
            throw UserServiceError.databaseUnavailable(settings.url.description, reason: Self.reason(error))
        }
    }

    /// The rows `query` answers, within ``callLimit``.
    func rows(_ query: PostgresQuery) async throws -> [PostgresRow] {
        let (client, logger) = (self.client, self.logger)
        return try await PostgresDeadline.run(within: self.callLimit) {
            try await client.query(query, logger: logger).collect()
        }
    }

    /// What went wrong, fit for an operator: the server's message or the connection's own error, both of which
    /// `PSQLError`'s description hides.
    static func reason(_ error: any Error) -> String {
        switch error {
        case let error as PostgresTransactionError:
            return Self.reason(error.beginError ?? error.closureError ?? error.commitError ?? error)
        case let error as PSQLError:
            if let message = error.serverInfo?[.message] { return message }
            if let underlying = error.underlying { return String(describing: underlying) }
            return "\(error.code)"
        default:
            return String(describing: error)
        }
    }
}

/// An answer the schema should have made impossible.
struct UnexpectedRow: Error, CustomStringConvertible {
    let description: String
}
