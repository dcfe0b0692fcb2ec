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
    /// The failed-login counters: shared by every connection (it locks itself), and kept across reloads.
    public let loginGuard: LoginGuard
    /// How login usernames are named in the lock tables and the audit trail.
    public let usernameFingerprint: UsernameFingerprint
    let auth: AuthPolicy
    /// The node's rate limit counters: shared by every connection, and kept across reloads.
    public let rateLimiter: RateLimiter
    let rateLimitKeying: RateLimitKeying
    /// CORS preflights are counted by this policy alone.
    let preflightLimits: RateLimitPolicySet
    let tlsContext: NIOSSLContext
    /// The certificates `tlsContext` serves.
    public let certificates: [CertificateInUse]
    /// The clock policies read; injectable for tests.
    let now: @Sendable () -> Date

    /// Loads the TLS material and the JWT secrets and keys and compiles the config. Tokens are
    /// checked against `revocations` when given (the daemon), and with the keys of `remoteKeys`
    /// (the issuers' `jwks_url`s); `check-config` builds a runtime without either. The daemon
    /// fingerprints usernames with the store's install key; by default the key is this process's own.
    /// A reload passes the running limiter and login guard, which take up the new config.
    public init(
        config: GatewayConfig,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        revocations: RevocationList? = nil,
        remoteKeys: [RemoteKeySet] = [],
        usernameFingerprint: UsernameFingerprint = .ephemeral(),
        rateLimiter: RateLimiter? = nil,
        loginGuard: LoginGuard? = nil,
        now: @escaping @Sendable () -> Date = { Date() }
    ) throws(StartupError) {
        self.config = config
        self.routes = RouteTable(
            config.routes, defaultRateLimits: config.rateLimit.defaultPolicies, serverMaxBodyBytes: config.server.maxBodyBytes)
        self.rateLimiter = rateLimiter ?? RateLimiter(maxKeys: config.rateLimit.maxKeys)
        self.rateLimitKeying = RateLimitKeying(ipv6Prefix: config.rateLimit.ipv6Prefix)
        self.preflightLimits = RateLimitPolicySet([RateLimitPolicy(config.cors.preflightRateLimit, scope: "preflight")])
        self.headerRules = HeaderRules(trustedProxies: config.server.trustedProxies, tls: config.tls, jwt: config.jwt)
        self.loginGuard = loginGuard ?? LoginGuard(config: config.loginProtection)
        self.usernameFingerprint = usernameFingerprint
        if let directory = config.server.acmeChallengeDir { try ACMEChallengeDirectory.check(directory) }
        (self.tlsContext, self.certificates) = try TLSContextFactory.makeServer(config.tls, http2: config.server.http2, now: now())
        let needsTokens = config.routes.contains { $0.auth != .none }
        let issuers = try TokenIssuer.load(config.jwt, environment: environment, remoteKeys: remoteKeys, requireSecrets: needsTokens)
        self.auth = AuthPolicy(
            verifier: needsTokens ? TokenVerifier(issuers: issuers, config: config.jwt, keyClaims: Self.rateLimitClaims(config)) : nil,
            revocations: revocations)
        self.now = now
        // Last, once nothing can fail: a runtime that is not built changes nothing.
        if loginGuard != nil { self.loginGuard.apply(config.loginProtection) }
    }

    /// The claims rate policies key requests by, which verified identities must carry.
    private static func rateLimitClaims(_ config: GatewayConfig) -> [String] {
        let policies = config.rateLimit.defaultPolicies + config.routes.flatMap { $0.rateLimit ?? [] }
        return policies.compactMap { if case .claim(let name) = $0.key { name } else { nil } }
    }

    func upstream(named name: String) -> UpstreamConfig? {
        config.upstreams.first { $0.name == name }
    }
}
