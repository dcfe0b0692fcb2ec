/// Everything the userservice needs to run: where to listen, where its database lives, and how it signs tokens.
///
/// Build one with ``init(host:port:database:jwtSecret:issuer:audience:tokenLifetime:bcryptCost:)``,
/// then ``validate()`` it (``makeUserServiceApplication(configuration:logger:onServerRunning:)`` does so too).
public struct UserServiceConfiguration: Sendable {
    /// The shortest HS256 secret accepted, in bytes.
    public static let minimumSecretLength = 32

    /// The address to bind; the service trusts identity headers, so keep it on loopback or a private network.
    public var host: String
    /// The TCP port to bind; 0 picks any free port.
    public var port: Int
    /// Where users and resources are kept.
    public var database: UserServiceDatabase
    /// The HS256 secret that signs access tokens (at least ``minimumSecretLength`` bytes).
    public var jwtSecret: [UInt8]
    /// The "iss" claim of issued tokens, if any.
    public var issuer: String?
    /// The "aud" claim of issued tokens, if any.
    public var audience: String?
    /// How long an issued access token stays valid.
    public var tokenLifetime: Duration
    /// The bcrypt cost (log2 rounds) for new password hashes, from 4 to 31.
    public var bcryptCost: Int

    /// Creates a configuration; only the secret has no default.
    public init(
        host: String = "127.0.0.1",
        port: Int = 8081,
        database: UserServiceDatabase = .sqlite(path: "./userservice.sqlite"),
        jwtSecret: [UInt8],
        issuer: String? = nil,
        audience: String? = nil,
        tokenLifetime: Duration = .seconds(24 * 60 * 60),
        bcryptCost: Int = 12
    ) {
        self.host = host
        self.port = port
        self.database = database
        self.jwtSecret = jwtSecret
        self.issuer = issuer
        self.audience = audience
        self.tokenLifetime = tokenLifetime
        self.bcryptCost = bcryptCost
    }

    /// Checks every value, throwing a ``UserServiceError`` that names the first one out of range.
    public func validate() throws {
        guard self.jwtSecret.count >= Self.minimumSecretLength else {
            throw UserServiceError.invalidConfiguration(
                "the JWT secret must be at least \(Self.minimumSecretLength) bytes (it has \(self.jwtSecret.count))"
            )
        }
        guard !self.host.isEmpty else {
            throw UserServiceError.invalidConfiguration("the host must not be empty")
        }
        guard (0...65535).contains(self.port) else {
            throw UserServiceError.invalidConfiguration("the port must be between 0 and 65535")
        }
        try self.database.validate()
        guard self.tokenLifetime >= .seconds(1) else {
            throw UserServiceError.invalidConfiguration("the token lifetime must be at least one second")
        }
        guard (4...31).contains(self.bcryptCost) else {
            throw UserServiceError.invalidConfiguration("the bcrypt cost must be between 4 and 31")
        }
    }
}

extension UserServiceConfiguration: CustomStringConvertible {
    /// A summary for logs and diagnostics; the secret is never part of it.
    public var description: String {
        "UserServiceConfiguration(host: \(self.host), port: \(self.port), database: \(self.database), "
            + "jwtSecret: <\(self.jwtSecret.count) bytes>, issuer: \(self.issuer ?? "nil"), "
            + "audience: \(self.audience ?? "nil"), tokenLifetime: \(self.tokenLifetime), "
            + "bcryptCost: \(self.bcryptCost))"
    }
}
