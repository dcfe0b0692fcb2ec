import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import UserServiceCore

/// Builds userservice applications for tests: in memory, cheap bcrypt, silent logs.
enum TestService {
    static let secret = Array("test-secret-that-is-at-least-32-bytes-long".utf8)
    static let strongPassword = "correct horse battery"

    static func configuration(
        databasePath: String = ":memory:",
        issuer: String? = nil,
        audience: String? = nil
    ) -> UserServiceConfiguration {
        UserServiceConfiguration(
            port: 0,
            databasePath: databasePath,
            jwtSecret: secret,
            issuer: issuer,
            audience: audience,
            bcryptCost: 4
        )
    }

    static let logger = Logger(label: "userservice.tests", factory: { _ in SwiftLogNoOpLogHandler() })

    /// Runs `test` against a fresh application through its router, without sockets.
    @discardableResult
    static func withClient<Value>(
        _ configuration: UserServiceConfiguration = Self.configuration(),
        _ test: @Sendable (any TestClientProtocol) async throws -> Value
    ) async throws -> Value {
        let app = try await makeUserServiceApplication(configuration: configuration, logger: Self.logger)
        return try await app.test(.router, test)
    }
}
