import Logging
import NIOSSL
import PostgresNIO
import Synchronization

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
/// The caller is answered at the deadline even if the operation does not react to being cancelled.
public enum PostgresDeadline {
    /// `operation`'s result, or ``PostgresTimeout`` once `limit` has passed (the operation is cancelled).
    public static func run<Value: Sendable>(
        within limit: Duration, _ operation: @escaping @Sendable () async throws -> Value
    ) async throws -> Value {
        let answer = FirstAnswer<Value>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                answer.wait(continuation)
                let work = Task {
                    do {
                        answer.resume(with: .success(try await operation()))
                    } catch {
                        answer.resume(with: .failure(error))
                    }
                }
                Task {
                    try? await Task.sleep(for: limit)
                    if answer.resume(with: .failure(PostgresTimeout(limit: limit))) { work.cancel() }
                }
            }
        } onCancel: {
            answer.resume(with: .failure(CancellationError()))
        }
    }
}

/// A continuation resumed once, by whichever answer comes first; one that comes before the
/// continuation is kept for it.
private final class FirstAnswer<Value: Sendable>: Sendable {
    private let state = Mutex<(continuation: CheckedContinuation<Value, any Error>?, early: Result<Value, any Error>?, done: Bool)>(
        (nil, nil, false))

    func wait(_ continuation: CheckedContinuation<Value, any Error>) {
        let early = state.withLock { state -> Result<Value, any Error>? in
            if let early = state.early { return early }
            state.continuation = continuation
            return nil
        }
        if let early { continuation.resume(with: early) }
    }

    /// Answers unless already answered; returns whether this was the answer.
    @discardableResult
    func resume(with result: Result<Value, any Error>) -> Bool {
        let (first, continuation) = state.withLock { state -> (Bool, CheckedContinuation<Value, any Error>?) in
            guard !state.done else { return (false, nil) }
            state.done = true
            guard let continuation = state.continuation else {
                state.early = result
                return (true, nil)
            }
            state.continuation = nil
            return (true, continuation)
        }
        continuation?.resume(with: result)
        return first
    }
}
