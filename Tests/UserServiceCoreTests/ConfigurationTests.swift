import PostgresSupport
import Testing
import UserServiceCore

@Suite("Configuration")
struct ConfigurationTests {
    @Test("has the documented defaults")
    func defaults() {
        let configuration = UserServiceConfiguration(jwtSecret: TestService.secret)

        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.port == 8081)
        #expect(configuration.tokenLifetime == .seconds(24 * 60 * 60))
        #expect(configuration.bcryptCost == 12)
        #expect(configuration.database.description == "./userservice.sqlite")
    }

    @Test("refuses a JWT secret shorter than 32 bytes")
    func shortSecret() {
        let configuration = UserServiceConfiguration(jwtSecret: Array(repeating: 1, count: 31))

        #expect(throws: UserServiceError.self) { try configuration.validate() }
    }

    @Test("accepts a JWT secret of 32 bytes")
    func minimumSecret() throws {
        try UserServiceConfiguration(jwtSecret: Array(repeating: 1, count: 32)).validate()
    }

    @Test("makeUserServiceApplication refuses an invalid configuration")
    func applicationValidates() async {
        var configuration = TestService.configuration()
        configuration.jwtSecret = Array("too short".utf8)

        await #expect(throws: UserServiceError.self) {
            _ = try await makeUserServiceApplication(configuration: configuration, logger: TestService.logger)
        }
    }

    @Test(
        "refuses PostgreSQL timeouts of zero or over 60 s, and a pool size out of 1–64",
        arguments: [(.zero, .seconds(5), 4), (.seconds(5), .seconds(61), 4), (.seconds(5), .seconds(5), 0)]
            as [(Duration, Duration, Int)]
    )
    func refusesPostgresSettings(connectTimeout: Duration, statementTimeout: Duration, poolSize: Int) throws {
        let settings = PostgresConnectionSettings(
            url: try PostgresURL(parsing: "postgres://userservice@db.internal/users"),
            password: "s3cr3t",
            connectTimeout: connectTimeout,
            statementTimeout: statementTimeout,
            poolSize: poolSize,
            applicationName: "userservice"
        )
        let configuration = TestService.configuration(database: .postgres(settings))

        #expect(throws: UserServiceError.self) { try configuration.validate() }
    }

    @Test("describes a PostgreSQL database by its URL, never by its password")
    func describesPostgres() throws {
        let url = try PostgresURL(parsing: "postgres://userservice@db.internal/users")
        let settings = PostgresConnectionSettings(url: url, password: "s3cr3t", applicationName: "userservice")
        let configuration = TestService.configuration(database: .postgres(settings))

        #expect(configuration.description.contains(url.description))
        #expect(!configuration.description.contains("s3cr3t"))
    }

    @Test("never prints the secret in its description")
    func redactsSecret() {
        let configuration = UserServiceConfiguration(jwtSecret: Array("s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t".utf8))

        #expect(!configuration.description.contains("s3cr3t"))
    }

    @Test(
        "parses token lifetimes in seconds, minutes, hours and days",
        arguments: [("90s", 90), ("30m", 1800), ("24h", 86400), ("7d", 604_800)] as [(String, Int64)]
    )
    func parsesLifetime(text: String, seconds: Int64) {
        #expect(Duration(lifetime: text) == .seconds(seconds))
    }

    @Test(
        "refuses lifetimes without a unit, with an unknown unit, or not positive",
        arguments: ["24", "3w", "0h", "-1h", "h", ""]
    )
    func refusesLifetime(text: String) {
        #expect(Duration(lifetime: text) == nil)
    }
}
