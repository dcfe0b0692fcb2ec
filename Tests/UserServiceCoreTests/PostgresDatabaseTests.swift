import HummingbirdTesting
import PostgresSupport
import PostgresTestSupport
import Testing
import UserServiceCore

@Suite("PostgreSQL database")
struct PostgresDatabaseTests {
    @Test("refuses a server certificate that another CA signed with verify-full, saying why")
    func refusesWrongCA() async throws {
        var url = try await Engine.makePostgresDatabase()
        url.sslRootCert = try TestPostgres.wrongCA()
        let configuration = TestService.configuration(database: .postgres(try Engine.postgresSettings(url: url)))

        let error = await #expect(throws: UserServiceError.self) {
            _ = try await makeUserServiceApplication(configuration: configuration, logger: TestService.logger)
        }
        #expect(error?.message.contains("CERTIFICATE_VERIFY_FAILED") == true)
        #expect(error?.message.contains(url.description) == true)
    }

    @Test("refuses to start when the server cannot be reached, saying why")
    func refusesUnreachableServer() async throws {
        let url = try PostgresURL(parsing: "postgres://userservice@127.0.0.1:1/users?sslmode=disable")
        let configuration = TestService.configuration(database: .postgres(try Engine.postgresSettings(url: url)))

        let error = await #expect(throws: UserServiceError.self) {
            _ = try await makeUserServiceApplication(configuration: configuration, logger: TestService.logger)
        }
        #expect(error?.message.hasPrefix("cannot use the database \(url)") == true)
    }

    @Test("services starting together on a new database migrate it without colliding, then serve")
    func concurrentMigrations() async throws {
        let configuration = try await TestService.configuration(.postgres)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    _ = try await makeUserServiceApplication(configuration: configuration, logger: TestService.logger)
                }
            }
            try await group.waitForAll()
        }
        try await TestService.withClient(configuration) { client in
            try await client.register("alice")
        }
    }
}
