import Hummingbird
import Logging
import NIOCore
import PostgresSupport

/// Builds the userservice application.
///
/// Validates the configuration, opens and migrates the database, and prepares the routes. Run the result with
/// `try await app.runService()` (or inside a `ServiceGroup`); cancelling the task that runs it stops it. With
/// PostgreSQL the application also runs the connection pool, for as long as it serves.
///
/// - Parameters:
///   - configuration: Where to listen, the database, and how tokens are signed.
///   - logger: The logger for the service and its requests.
///   - onServerRunning: Called with the bound TCP port once the server listens (useful with port 0).
/// - Throws: ``UserServiceError`` for an invalid configuration or a PostgreSQL database that cannot be reached or
///   migrated; a database error if the SQLite file cannot be opened or migrated.
public func makeUserServiceApplication(
    configuration: UserServiceConfiguration,
    logger: Logger,
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) async throws -> some ApplicationProtocol {
    try configuration.validate()
    if !configuration.bindsToLoopback {
        logger.warning(
            "Listening beyond loopback: the service trusts X-Auth-* headers, so only the gateway may reach it",
            metadata: ["userservice.host": "\(configuration.host)"]
        )
    }
    if case .postgres(let settings) = configuration.database, settings.url.sslMode == .disable,
        !settings.url.isLoopback
    {
        logger.warning(
            "sslmode=disable to a database on another host: passwords and data cross the network in clear",
            metadata: ["userservice.database": "\(configuration.database)"]
        )
    }
    let (store, client) = try await configuration.database.openStore(logger: logger)
    let router = try await makeRouter(database: store, configuration: configuration)
    return Application(
        router: router,
        configuration: ApplicationConfiguration(
            address: .hostname(configuration.host, port: configuration.port),
            serverName: nil
        ),
        services: client.map { [$0] } ?? [],
        onServerRunning: { channel in
            let port = channel.localAddress?.port ?? configuration.port
            logger.info(
                "Userservice listening",
                metadata: ["userservice.host": "\(configuration.host)", "userservice.port": "\(port)"]
            )
            await onServerRunning(port)
        },
        logger: logger
    )
}

/// The routes and middleware of the service.
func makeRouter(
    database: any UserStore,
    configuration: UserServiceConfiguration
) async throws -> Router<AppRequestContext> {
    let router = Router(context: AppRequestContext.self)
    router.add(middleware: ErrorMiddleware())
    router.add(middleware: LogRequestsMiddleware(.info))

    HealthRoutes().addRoutes(to: router)
    AuthRoutes(
        database: database,
        hasher: try await PasswordHasher(cost: configuration.bcryptCost),
        issuer: await TokenIssuer(configuration: configuration)
    ).addRoutes(to: router.group("auth"))

    let authenticated = router.group()
        .add(middleware: IdentityMiddleware(database: database))
        .group(context: AuthenticatedRequestContext.self)
    UserRoutes(database: database).addRoutes(to: authenticated.group("users"))
    ResourceRoutes(database: database).addRoutes(to: authenticated.group("resources"))
    return router
}

/// Builds the application and serves until SIGTERM or SIGINT, or until the calling task is cancelled,
/// then shuts down gracefully.
///
/// This is ``makeUserServiceApplication(configuration:logger:onServerRunning:)`` followed by `runService()`,
/// for callers that do not import Hummingbird.
/// - Throws: what ``makeUserServiceApplication(configuration:logger:onServerRunning:)`` throws, or a bind failure.
public func runUserService(
    configuration: UserServiceConfiguration,
    logger: Logger,
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) async throws {
    let app = try await makeUserServiceApplication(
        configuration: configuration,
        logger: logger,
        onServerRunning: onServerRunning
    )
    try await app.runService()
}
