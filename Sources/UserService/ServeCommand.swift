import ArgumentParser
import Logging
import UserServiceCore

/// `userservice serve`: runs the HTTP service until SIGTERM or SIGINT.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the HTTP API until SIGTERM or SIGINT."
    )

    @Option(help: "The address to listen on; keep it on loopback or a private network.")
    var host = "127.0.0.1"

    @Option(help: "The TCP port to listen on (0 picks a free port).")
    var port = 8081

    @OptionGroup
    var database: DatabaseOptions

    @Option(
        help: ArgumentHelp(
            "A file holding the HS256 secret, at least 32 bytes; one trailing newline is ignored. "
                + "Without it the secret is read from $\(JWTSecret.environmentVariable).",
            valueName: "path"
        )
    )
    var jwtSecretFile: String?

    @Option(help: "The \"iss\" claim of issued tokens.")
    var issuer: String?

    @Option(help: "The \"aud\" claim of issued tokens.")
    var audience: String?

    @Option(help: ArgumentHelp("How long issued tokens stay valid: a number and s, m, h or d.", valueName: "lifetime"))
    var tokenLifetime = "24h"

    @Option(help: ArgumentHelp("The bcrypt cost for new password hashes, 4 to 31.", valueName: "cost"))
    var bcryptCost = 12

    @Option(
        help: ArgumentHelp("The log level: trace, debug, info, notice, warning, error or critical.", valueName: "level")
    )
    var logLevel = "info"

    func run() async throws {
        guard let tokenLifetime = Duration(lifetime: self.tokenLifetime) else {
            throw ValidationError("Invalid --token-lifetime \"\(self.tokenLifetime)\": use e.g. 90s, 30m, 24h or 7d.")
        }
        guard let logLevel = Logger.Level(rawValue: self.logLevel) else {
            throw ValidationError("Invalid --log-level \"\(self.logLevel)\".")
        }
        let configuration = UserServiceConfiguration(
            host: self.host,
            port: self.port,
            database: try self.database.resolve(),
            jwtSecret: try JWTSecret.load(file: self.jwtSecretFile),
            issuer: self.issuer,
            audience: self.audience,
            tokenLifetime: tokenLifetime,
            bcryptCost: self.bcryptCost
        )
        do {
            try configuration.validate()
        } catch let error as UserServiceError {
            throw ValidationError(error.message)
        }
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
        var logger = Logger(label: "userservice")
        logger.logLevel = logLevel
        try await runUserService(configuration: configuration, logger: logger)
    }
}
