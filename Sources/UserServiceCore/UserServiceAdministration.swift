import Foundation

/// Maintenance tasks run from the command line, next to (or instead of) the running service.
public enum UserServiceAdministration {
    /// Gives an existing user the admin role; their next login gets a token with the "admin" scope.
    ///
    /// - Throws: ``UserServiceError`` when the database file or the user does not exist.
    public static func grantAdmin(username: String, databasePath: String) async throws {
        guard databasePath == ":memory:" || FileManager.default.fileExists(atPath: databasePath) else {
            throw UserServiceError.databaseNotFound(path: databasePath)
        }
        let database = try AppDatabase.open(path: databasePath)
        guard try await database.grantAdmin(username: username) else {
            throw UserServiceError.userNotFound(username: username)
        }
    }
}
