import ArgumentParser
import Logging
import UserServiceCore

/// `userservice grant-admin USERNAME`: gives a registered user the admin role.
struct GrantAdminCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grant-admin",
        abstract: "Give a registered user the admin role.",
        discussion: """
            The user's next login yields a token with the "admin" scope; tokens issued before keep their scopes.
            """
    )

    @OptionGroup
    var database: DatabaseOptions

    @Argument(help: "The username to promote.")
    var username: String

    func run() async throws {
        let database = try self.database.resolve()
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
        var logger = Logger(label: "userservice")
        logger.logLevel = .warning
        try await UserServiceAdministration.grantAdmin(username: self.username, database: database, logger: logger)
        print("Granted the admin role to \(self.username).")
    }
}
