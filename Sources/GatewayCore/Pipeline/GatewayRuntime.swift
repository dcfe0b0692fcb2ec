import Foundation
import NIOCore
import NIOSSL

/// Everything the data plane needs, built once from a config snapshot and never mutated.
///
/// Building it does blocking I/O (certificates, keys, secrets): do it off the event loops.
public final class GatewayRuntime: Sendable {
    public let config: GatewayConfig
    let routes: RouteTable
    let headerRules: HeaderRules
    /// The failed-login counters: the one mutable part, shared by every connection (it locks itself).
    let loginGuard: LoginGuard
    let auth: AuthPolicy
    let tlsContext: NIOSSLContext
    /// The clock policies read; injectable for tests.
    let now: @Sendable () -> Date

    /// Loads the TLS material and the JWT secret and compiles the config. Tokens are checked against
    /// `revocations` when given (the daemon), and with the keys of `remoteKeys` (`jwt.jwks_url`);
    /// `check-config` builds a runtime without either.
    public init(
        config: GatewayConfig,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        revocations: RevocationList? = nil,
        remoteKeys: RemoteKeySet? = nil,
        now: @escaping @Sendable () -> Date = { Date() }
    ) throws(StartupError) {
        self.config = config
        self.routes = RouteTable(config.routes)
        self.headerRules = HeaderRules(trustedProxies: config.server.trustedProxies, tls: config.tls, jwt: config.jwt)
        self.loginGuard = LoginGuard(config: config.loginProtection)
        self.tlsContext = try TLSContextFactory.makeServerContext(config.tls, now: now())
        let needsTokens = config.routes.contains { $0.auth != .none }
        let secret = try JWTSecret.load(config.jwt, environment: environment)
        if secret == nil, needsTokens, config.jwt.algorithms.contains(where: \.isHMAC) {
            throw StartupError(
                "jwt.secret_file",
                "routes require authentication with an HS algorithm but no secret is configured (set jwt.secret_file or \(JWTSecret.environmentVariable))")
        }
        let keys = JWTKeys(secret: secret, publicKeys: try JWTKeys.loadPublicKeys(config.jwt), remote: remoteKeys)
        self.auth = AuthPolicy(
            verifier: needsTokens ? TokenVerifier(keys: keys, config: config.jwt) : nil, revocations: revocations)
        self.now = now
    }

    func upstream(named name: String) -> UpstreamConfig? {
        config.upstreams.first { $0.name == name }
    }
}
