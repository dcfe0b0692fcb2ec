import ArgumentParser

/// The `userservice` command: serves by default, and administers the user database.
@main
struct UserServiceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "userservice",
        abstract: "The user and resource service that sits behind the gateway.",
        discussion: """
            The service speaks plain HTTP and trusts the X-Auth-Subject and X-Auth-Scopes headers set by the \
            gateway, so it must only be reachable by the gateway (loopback or a private network).
            """,
        subcommands: [ServeCommand.self, GrantAdminCommand.self],
        defaultSubcommand: ServeCommand.self
    )
}
