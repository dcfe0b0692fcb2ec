import Logging
import NIOSSL
import PostgresNIO

/// Everything needed to open a pool of connections to one PostgreSQL database.
public struct PostgresConnectionSettings: Sendable {
    public var url: PostgresURL
    public var password: String?
    /// How long a new connection may take to be established, TLS included.
    public var connectTimeout: Duration
    /// How long one statement may run on the server before it cancels it; also the longest a
    /// caller waits for a pooled connection and its answer (``PostgresDeadline``).
    public var statementTimeout: Duration
    /// Connections open at most.
    public var poolSize: Int
    /// Shown in `pg_stat_activity`.
    public var applicationName: String

    public init(
        url: PostgresURL, password: String?, connectTimeout: Duration = .seconds(5), statementTimeout: Duration = .seconds(5),
        poolSize: Int = 4, applicationName: String
    ) {
        self.url = url
        self.password = password
        self.connectTimeout = connectTimeout
        self.statementTimeout = statementTimeout
        self.poolSize = poolSize
        self.applicationName = applicationName
    }

    /// The client configuration: TLS per ``PostgresURL/sslMode``, the timeouts, the pool size.
    /// Throws when the CA file cannot be loaded.
    public func clientConfiguration() throws -> PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS = try tlsConfiguration().map { .require($0) } ?? .disable
        var configuration = PostgresClient.Configuration(
            host: url.host, port: url.port, username: url.user, password: password, database: url.database, tls: tls)
        configuration.options.connectTimeout = connectTimeout
        configuration.options.maximumConnections = poolSize
        configuration.options.minimumConnections = 0
        configuration.options.additionalStartupParameters = startupParameters
        return configuration
    }

    /// The configuration of one connection outside the pool, as the pool would open it: for a caller
    /// that wants a failed connection's own error (TLS, login) rather than the pool's retries.
    /// Throws when the CA file cannot be loaded.
    public func connectionConfiguration() throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS =
            try tlsConfiguration().map { .require(try NIOSSLContext(configuration: $0)) } ?? .disable
        var configuration = PostgresConnection.Configuration(
            host: url.host, port: url.port, username: url.user, password: password, database: url.database, tls: tls)
        configuration.options.connectTimeout = TimeAmount(connectTimeout)
        configuration.options.additionalStartupParameters = startupParameters
        return configuration
    }

    /// The TLS settings per ``PostgresURL/sslMode``; nil for `disable`.
    private func tlsConfiguration() throws -> TLSConfiguration? {
        switch url.sslMode {
        case .disable:
            return nil
        case .require:
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.certificateVerification = .none
            return configuration
        case .verifyFull:
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.certificateVerification = .fullVerification
            configuration.minimumTLSVersion = .tlsv12
            if let root = url.sslRootCert {
                configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(root))
            }
            return configuration
        }
    }

    private var startupParameters: [(String, String)] {
        [("application_name", applicationName), ("statement_timeout", "\(statementTimeout.milliseconds)")]
    }
}

extension Duration {
    /// Whole milliseconds, rounded down.
    var milliseconds: Int64 {
        components.seconds * 1_000 + components.attoseconds / 1_000_000_000_000_000
    }
}

/// Why a PostgreSQL call gave up waiting.
public struct PostgresTimeout: Error, CustomStringConvertible {
    public let limit: Duration
    public var description: String { "no answer from PostgreSQL within \(limit)" }
}

/// A bound on how long a caller waits for the database.
///
/// PostgresNIO keeps a request waiting for a pooled connection for as long as the server is
/// unreachable; the gateway and the userservice must answer instead, so each call races a timer.
public enum PostgresDeadline {
    /// `operation`'s result, or ``PostgresTimeout`` once `limit` has passed (the operation is cancelled).
    public static func run<Result: Sendable>(
        within limit: Duration, _ operation: @escaping @Sendable () async throws -> Result
    ) async throws -> Result {
        try await withThrowingTaskGroup(of: Result.self) { group in
            group.addTask { try await operation() }
            group.addTask {
                try await Task.sleep(for: limit)
                throw PostgresTimeout(limit: limit)
            }
            defer { group.cancelAll() }
            guard let result = try await group.next() else { throw PostgresTimeout(limit: limit) }
            return result
        }
    }
}
