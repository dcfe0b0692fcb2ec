import Foundation
import Logging

/// Maintenance tasks run from the command line, next to (or instead of) the running service.
public enum UserServiceAdministration {
    /// Gives an existing user the admin role; their next login gets a token with the "admin" scope.
    ///
    /// - Throws: ``UserServiceError`` when the SQLite file, the PostgreSQL database or the user does not exist.
    public static func grantAdmin(username: String, database: UserServiceDatabase, logger: Logger) async throws {
        try database.validate()
        if case .sqlite(let path) = database, path != ":memory:", !FileManager.default.fileExists(atPath: path) {
            throw UserServiceError.databaseNotFound(path: path)
        }
        try await database.withStore(logger: logger) { store in
            guard try await store.grantAdmin(username: username) else {
                throw UserServiceError.userNotFound(username: username)
            }
        }
    }
}
