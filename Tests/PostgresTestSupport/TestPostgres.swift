import Foundation
import Logging
import PostgresNIO
import PostgresSupport

/// The throwaway PostgreSQL server `scripts/with-postgres` starts for the test run, and a fresh
/// database on it for each test.
///
/// A test that needs PostgreSQL fails, never skips, when the server is not there: run the suite
/// with `scripts/test`, which starts it.
public enum TestPostgres {
    public struct MissingServer: Error, CustomStringConvertible {
        public var description: String {
            "no test PostgreSQL server: run the tests through scripts/test (or scripts/with-postgres swift test …)"
        }
    }

    public struct ControlFailed: Error, CustomStringConvertible {
        public let description: String
    }

    private static var environment: [String: String] { ProcessInfo.processInfo.environment }

    /// The server's URL (`sslmode=verify-full` against its test CA), to the `gateway` database.
    public static func serverURL() throws -> PostgresURL {
        guard let text = environment["GATEWAY_TEST_POSTGRES_URL"] else { throw MissingServer() }
        return try PostgresURL(parsing: text)
    }

    /// The file holding the `gateway` role's password.
    public static func passwordFile() throws -> String {
        guard let path = environment["GATEWAY_TEST_POSTGRES_PASSWORD_FILE"] else { throw MissingServer() }
        return path
    }

    /// A CA that did not sign the server's certificate.
    public static func wrongCA() throws -> String {
        guard let path = environment["GATEWAY_TEST_POSTGRES_WRONG_CA"] else { throw MissingServer() }
        return path
    }

    public static func password() throws -> String {
        try PostgresPassword.load(file: passwordFile(), credential: "", environment: [:]) ?? ""
    }

    /// Stops the server (fast shutdown: open connections are cut) or starts it again.
    public static func control(_ action: String) throws {
        guard let script = environment["GATEWAY_TEST_POSTGRES_CTL"] else { throw MissingServer() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: script)
        process.arguments = [action]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ControlFailed(description: "\(script) \(action) exited with \(process.terminationStatus)")
        }
    }

    /// Creates an empty database of its own for one test and returns its URL.
    public static func makeDatabase(prefix: String = "test") async throws -> PostgresURL {
        var url = try serverURL()
        let name = "\(prefix)_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased())"
        let settings = PostgresConnectionSettings(url: url, password: try password(), applicationName: "gateway-tests")
        let client = PostgresClient(configuration: try settings.clientConfiguration())
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            try await client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"))
        }
        url.database = name
        return url
    }
}
