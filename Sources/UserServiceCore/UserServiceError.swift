/// An error the userservice reports to whoever starts or administers it (never to HTTP clients).
public struct UserServiceError: Error, Sendable, Equatable, CustomStringConvertible {
    private enum Code: Sendable, Equatable {
        case invalidConfiguration
        case databaseNotFound
        case databaseUnavailable
        case userNotFound
    }

    private let code: Code
    /// A human-readable explanation, fit for a terminal or a log line.
    public let message: String

    private init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// A configuration value is missing or out of range.
    public static func invalidConfiguration(_ reason: String) -> Self {
        Self(.invalidConfiguration, "invalid configuration: \(reason)")
    }

    /// An administrative command was pointed at a database file that does not exist.
    public static func databaseNotFound(path: String) -> Self {
        Self(.databaseNotFound, "no database at \(path)")
    }

    /// The database could not be reached or migrated; `reason` says why (it never holds the password).
    public static func databaseUnavailable(_ location: String, reason: String) -> Self {
        Self(.databaseUnavailable, "cannot use the database \(location): \(reason)")
    }

    /// An administrative command named a user that does not exist.
    public static func userNotFound(username: String) -> Self {
        Self(.userNotFound, "no user named \"\(username)\"")
    }

    public var description: String { self.message }
}
