import HTTPTypes
import HummingbirdTesting
import Synchronization
import Testing
import UserServiceCore

@Suite("Running server")
struct ServerTests {
    @Test("answers /health with 200 {\"status\":\"ok\"} over a real socket")
    func health() async throws {
        let configuration = TestService.configuration()
        let app = try await makeUserServiceApplication(configuration: configuration, logger: TestService.logger)
        try await app.test(.live) { client in
            let response = try await client.send(.get, "/health")

            #expect(response.status == .ok)
            #expect(try response.json() as? [String: String] == ["status": "ok"])
        }
    }

    @Test("reports the bound port to onServerRunning")
    func reportsPort() async throws {
        let reported = Mutex<Int?>(nil)
        let app = try await makeUserServiceApplication(
            configuration: TestService.configuration(),
            logger: TestService.logger,
            onServerRunning: { port in reported.withLock { $0 = port } }
        )
        try await app.test(.live) { client in
            #expect(reported.withLock { $0 } == client.port)
        }
    }

    @Test("runUserService listens until its task is cancelled")
    func runsUntilCancelled() async throws {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let service = Task {
            try await runUserService(
                configuration: TestService.configuration(),
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

    @Test("keeps users in the database file across restarts, and grant-admin gives the admin scope")
    func fileDatabaseAndGrantAdmin() async throws {
        try await withTemporaryDatabasePath { path in
            let configuration = TestService.configuration(databasePath: path)
            try await TestService.withClient(configuration) { client in
                try await client.register("alice")
            }
            try await UserServiceAdministration.grantAdmin(username: "alice", databasePath: path)
            try await TestService.withClient(configuration) { client in
                let token = try #require(try await client.login("alice").json()["access_token"] as? String)
                #expect(try await TestTokens.verify(token).scope == "user admin")
            }
        }
    }

    @Test("grant-admin reports an unknown user")
    func grantAdminUnknownUser() async throws {
        try await withTemporaryDatabasePath { path in
            let configuration = TestService.configuration(databasePath: path)
            _ = try await makeUserServiceApplication(configuration: configuration, logger: TestService.logger)

            await #expect(throws: UserServiceError.userNotFound(username: "nobody")) {
                try await UserServiceAdministration.grantAdmin(username: "nobody", databasePath: path)
            }
        }
    }

    @Test("grant-admin refuses a database file that does not exist")
    func grantAdminMissingDatabase() async {
        let path = "/nonexistent/users.sqlite"

        await #expect(throws: UserServiceError.databaseNotFound(path: path)) {
            try await UserServiceAdministration.grantAdmin(username: "alice", databasePath: path)
        }
    }
}
