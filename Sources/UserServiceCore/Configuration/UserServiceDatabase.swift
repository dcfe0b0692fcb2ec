import PostgresSupport

/// Where the userservice keeps its users and resources: a SQLite file or a PostgreSQL database.
///
/// Both hold the same schema and behave the same to clients.
public enum UserServiceDatabase: Sendable {
    /// A SQLite file, created if missing, or ":memory:" for a database that lives as long as the application.
    case sqlite(path: String)
    /// A PostgreSQL database; the password is in the settings, never in the URL.
    case postgres(PostgresConnectionSettings)

    /// The most connections the service opens to PostgreSQL.
    public static let poolSizeRange = 1...64
    /// The longest connect or statement timeout accepted.
    public static let maximumTimeout = Duration.seconds(60)

    /// Checks the values, throwing a ``UserServiceError`` that names the first one out of range.
    func validate() throws {
        switch self {
        case .sqlite(let path):
            guard !path.isEmpty else {
                throw UserServiceError.invalidConfiguration("the database path must not be empty")
            }
        case .postgres(let settings):
            for (name, timeout) in [("connect", settings.connectTimeout), ("statement", settings.statementTimeout)] {
                guard timeout > .zero, timeout <= Self.maximumTimeout else {
                    throw UserServiceError.invalidConfiguration(
                        "the database \(name) timeout must be more than 0 and at most "
                            + "\(Self.maximumTimeout.components.seconds)s"
                    )
                }
            }
            guard Self.poolSizeRange.contains(settings.poolSize) else {
                throw UserServiceError.invalidConfiguration(
                    "the database pool size must be between \(Self.poolSizeRange.lowerBound) "
                        + "and \(Self.poolSizeRange.upperBound)"
                )
            }
        }
    }
}

extension UserServiceDatabase: CustomStringConvertible {
    /// The file path or the URL (which never holds the password): safe to log.
    public var description: String {
        switch self {
        case .sqlite(let path): path
        case .postgres(let settings): settings.url.description
        }
    }
}
