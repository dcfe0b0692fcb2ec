import ArgumentParser
import Foundation
import UserServiceCore

/// The database options shared by every subcommand: a SQLite file or a PostgreSQL URL.
struct DatabaseOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The SQLite database file (default: $\(UserServiceDatabase.pathVariable), "
                + "else \(UserServiceDatabase.defaultPath)).",
            valueName: "path"
        )
    )
    var database: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "A PostgreSQL database instead of the SQLite file (default: $\(UserServiceDatabase.urlVariable)): "
                + "postgres://USER@HOST:PORT/DATABASE?sslmode=verify-full&sslrootcert=CA, without a password.",
            valueName: "url"
        )
    )
    var databaseURL: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "A file holding the PostgreSQL password. Without it the password is the systemd credential "
                + "\"\(UserServiceDatabase.passwordCredential)\", else $PGPASSWORD.",
            valueName: "path"
        )
    )
    var databasePasswordFile: String?

    @Option(
        help: ArgumentHelp("How long connecting to PostgreSQL may take, e.g. 5s; at most 60s.", valueName: "duration")
    )
    var databaseConnectTimeout = "5s"

    @Option(
        help: ArgumentHelp(
            "How long one PostgreSQL statement may run, e.g. 5s; at most 60s. "
                + "A request waits at most both timeouts for the database.",
            valueName: "duration"
        )
    )
    var databaseStatementTimeout = "5s"

    /// The database these options and the environment name.
    func resolve() throws -> UserServiceDatabase {
        do {
            return try UserServiceDatabase(
                path: self.database,
                url: self.databaseURL,
                passwordFile: self.databasePasswordFile,
                connectTimeout: try Self.duration(self.databaseConnectTimeout, option: "database-connect-timeout"),
                statementTimeout: try Self.duration(self.databaseStatementTimeout, option: "database-statement-timeout"),
                environment: ProcessInfo.processInfo.environment
            )
        } catch let error as UserServiceError {
            throw ValidationError(error.message)
        }
    }

    private static func duration(_ text: String, option: String) throws -> Duration {
        guard let duration = Duration(lifetime: text) else {
            throw ValidationError("Invalid --\(option) \"\(text)\": use e.g. 5s or 30s.")
        }
        return duration
    }
}
