import Foundation

/// An issuer as the verifier uses it: its config, and the keys loaded for it.
struct TokenIssuer: Sendable {
    let config: IssuerConfig
    let algorithms: Set<JWSAlgorithm>
    let keys: JWTKeys

    init(config: IssuerConfig, keys: JWTKeys) {
        self.config = config
        self.algorithms = Set(config.algorithms)
        self.keys = keys
    }

    /// Loads every issuer's secret and key files (blocking I/O: call off the event loops), joined
    /// by the key set of its `jwks_url` among `remoteKeys`.
    ///
    /// - Parameters:
    ///   - requireSecrets: refuse an issuer with HS algorithms but no secret (`serve`, when routes
    ///     need tokens); `token inspect` reports the missing secret instead.
    ///   - savedJWKS: documents saved in the store, by JWKS URL, whose keys join the issuer's own
    ///     (`token inspect`, which never fetches).
    static func load(
        _ config: JWTConfig, environment: [String: String], remoteKeys: [RemoteKeySet] = [], savedJWKS: [String: Data] = [:],
        requireSecrets: Bool
    ) throws(StartupError) -> [TokenIssuer] {
        var issuers: [TokenIssuer] = []
        for issuer in config.issuers {
            let secret = try JWTSecret.load(issuer, environment: environment)
            if secret == nil, requireSecrets, issuer.algorithms.contains(where: \.isHMAC) {
                throw StartupError(
                    "\(issuer.configPath).secret_file",
                    "routes require authentication with an HS algorithm but no secret is configured (set \(issuer.configPath).secret_file or \(JWTSecret.environmentVariable))"
                )
            }
            var publicKeys = try JWTKeys.loadPublicKeys(issuer)
            if let url = issuer.jwksURL, let saved = savedJWKS[url], let keys = try? JWTKeys.parseJWKS(saved) { publicKeys += keys }
            let remote = issuer.jwksURL.flatMap { url in remoteKeys.first { $0.url == url } }
            issuers.append(TokenIssuer(config: issuer, keys: JWTKeys(secret: secret, publicKeys: publicKeys, remote: remote)))
        }
        return issuers
    }
}
