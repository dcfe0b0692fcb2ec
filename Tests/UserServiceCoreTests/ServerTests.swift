import HTTPTypes
import HummingbirdTesting
import Synchronization
import Testing
import UserServiceCore

@Suite("Running server")
struct ServerTests {
    @Test("answers /health with 200 {\"status\":\"ok\"} over a real socket", arguments: Engine.allCases)
    func health(engine: Engine) async throws {
        let configuration = try await TestService.configuration(engine)
        let app = try await makeUserServiceApplication(configuration: configuration, logger: TestService.logger)
        try await app.test(.live) { client in
            let response = try await client.send(.get, "/health")

            #expect(response.status == .ok)
            #expect(try response.json() as? [String: String] == ["status": "ok"])
        }
    }

    @Test("reports the bound port to onServerRunning", arguments: Engine.allCases)
    func reportsPort(engine: Engine) async throws {
        let reported = Mutex<Int?>(nil)
        let app = try await makeUserServiceApplication(
            configuration: try await TestService.configuration(engine),
            logger: TestService.logger,
            onServerRunning: { port in reported.withLock { $0 = port } }
        )
        try await app.test(.live) { client in
            #expect(reported.withLock { $0 } == client.port)
        }
    }

    @Test("runUserService listens until its task is cancelled", arguments: Engine.allCases)
    func runsUntilCancelled(engine: Engine) async throws {
        let configuration = try await TestService.configuration(engine)
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let service = Task {
            try await runUserService(
                configuration: configuration,
                logger: TestService.logger,
                onServerRunning: { continuation.yield($0) }
            )
        }
        var iterator = ports.makeAsyncIterator()
        let port = try #require(await iterator.next())
        service.cancel()
        _ = await service.result

        #expect(port > 0)
    }

    @Test(
        "keeps users in the database across restarts, and grant-admin gives the admin scope",
        arguments: Engine.allCases
    )
    func persistentDatabaseAndGrantAdmin(engine: Engine) async throws {
        try await engine.withPersistentDatabase { database in
            let configuration = TestService.configuration(database: database)
            try await TestService.withClient(configuration) { client in
                try await client.register("alice")
            }
            try await UserServiceAdministration.grantAdmin(
                username: "alice",
                database: database,
                logger: TestService.logger
            )
            try await TestService.withClient(configuration) { client in
                let token = try #require(try await client.login("alice").json()["access_token"] as? String)
                #expect(try await TestTokens.verify(token).scope == "user admin")
            }
        }
    }

    @Test("grant-admin reports an unknown user", arguments: Engine.allCases)
    func grantAdminUnknownUser(engine: Engine) async throws {
        try await engine.withPersistentDatabase { database in
            let configuration = TestService.configuration(database: database)
            _ = try await makeUserServiceApplication(configuration: configuration, logger: TestService.logger)

            await #expect(throws: UserServiceError.userNotFound(username: "nobody")) {
                try await UserServiceAdministration.grantAdmin(
                    username: "nobody",
                    database: database,
                    logger: TestService.logger
                )
            }
        }
    }

    @Test("grant-admin refuses a database file that does not exist")
    func grantAdminMissingDatabase() async {
        let path = "/nonexistent/users.sqlite"

        await #expect(throws: UserServiceError.databaseNotFound(path: path)) {
            try await UserServiceAdministration.grantAdmin(
                username: "alice",
                database: .sqlite(path: path),
                logger: TestService.logger
            )
        }
    }
}
