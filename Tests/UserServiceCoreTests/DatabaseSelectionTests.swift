import Foundation
import PostgresSupport
import Testing
import UserServiceCore

@Suite("Choosing the database from the command line and the environment")
struct DatabaseSelectionTests {
    static func resolve(_ environment: [String: String], path: String? = nil, url: String? = nil) throws
        -> UserServiceDatabase
    {
        try UserServiceDatabase(
            path: path,
            url: url,
            passwordFile: nil,
            connectTimeout: .seconds(5),
            statementTimeout: .seconds(5),
            environment: environment
        )
    }

    @Test("refuses a DATABASE_URL that holds a password, without repeating it")
    func refusesPasswordInURL() throws {
        let error = #expect(throws: UserServiceError.self) {
            try Self.resolve(["DATABASE_URL": "postgres://userservice:hunter2@db.internal/users"])
        }
        #expect(error?.message.contains("password") == true)
        #expect(error?.message.contains("hunter2") == false)
    }

    @Test("refuses a SQLite path and a PostgreSQL URL together")
    func refusesBothEngines() throws {
        let url = "postgres://userservice@db.internal/users"

        #expect(throws: UserServiceError.self) { try Self.resolve([:], path: "users.sqlite", url: url) }
        #expect(throws: UserServiceError.self) { try Self.resolve(["USERSERVICE_DATABASE": "users.sqlite"], url: url) }
    }

    @Test("takes DATABASE_URL and $PGPASSWORD from the environment; --database-url wins over DATABASE_URL")
    func readsEnvironment() throws {
        let environment = ["DATABASE_URL": "postgres://a@db.internal/users", "PGPASSWORD": "from-environment"]

        guard case .postgres(let settings) = try Self.resolve(environment) else {
            Issue.record("DATABASE_URL did not select PostgreSQL")
            return
        }
        #expect(settings.url.user == "a")
        #expect(settings.password == "from-environment")
        let overridden = try Self.resolve(environment, url: "postgres://b@db.internal/users")
        #expect(overridden.description == "postgres://b@db.internal:5432/users?sslmode=verify-full")
    }

    @Test("prefers the systemd credential database-password over $PGPASSWORD")
    func readsCredential() async throws {
        try await withTemporaryDatabasePath { path in
            let directory = (path as NSString).deletingLastPathComponent
            try "from-credential\n".write(toFile: directory + "/database-password", atomically: true, encoding: .utf8)
            let environment = [
                "DATABASE_URL": "postgres://a@db.internal/users",
                "CREDENTIALS_DIRECTORY": directory,
                "PGPASSWORD": "from-environment",
            ]

            guard case .postgres(let settings) = try Self.resolve(environment) else {
                Issue.record("DATABASE_URL did not select PostgreSQL")
                return
            }
            #expect(settings.password == "from-credential")
        }
    }

    @Test("uses the SQLite default when no database is named")
    func defaultsToSQLite() throws {
        #expect(try Self.resolve([:]).description == UserServiceDatabase.defaultPath)
    }
}
