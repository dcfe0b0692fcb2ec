import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import UserServiceCore

/// Builds userservice applications for tests: a fresh database, cheap bcrypt, silent logs.
enum TestService {
    static let secret = Array("test-secret-that-is-at-least-32-bytes-long".utf8)
    static let strongPassword = "correct horse battery"

    /// A configuration with a fresh database of `engine`.
    static func configuration(
        _ engine: Engine,
        issuer: String? = nil,
        audience: String? = nil
    ) async throws -> UserServiceConfiguration {
        Self.configuration(database: try await engine.makeDatabase(), issuer: issuer, audience: audience)
    }

    static func configuration(
        database: UserServiceDatabase = .sqlite(path: ":memory:"),
        issuer: String? = nil,
        audience: String? = nil
    ) -> UserServiceConfiguration {
        UserServiceConfiguration(
            port: 0,
            database: database,
            jwtSecret: secret,
            issuer: issuer,
            audience: audience,
            bcryptCost: 4
        )
    }

    static let logger = Logger(label: "userservice.tests", factory: { _ in SwiftLogNoOpLogHandler() })

    /// Runs `test` against a fresh application with a fresh database of `engine`, through its router.
    @discardableResult
    static func withClient<Value>(
        _ engine: Engine,
        _ test: @Sendable (any TestClientProtocol) async throws -> Value
    ) async throws -> Value {
        try await Self.withClient(try await Self.configuration(engine), test)
    }

    /// Runs `test` against a fresh application through its router, without sockets.
    @discardableResult
    static func withClient<Value>(
        _ configuration: UserServiceConfiguration,
        _ test: @Sendable (any TestClientProtocol) async throws -> Value
    ) async throws -> Value {
        let app = try await makeUserServiceApplication(configuration: configuration, logger: Self.logger)
        return try await app.test(.router, test)
    }
}
