import Foundation

extension IssuerConfig {
    /// The keys of a `[[jwt.issuers]]` entry, which a lone issuer may also set in `[jwt]` itself.
    enum Key: String, ConfigKeys {
        case issuer
        case algorithms
        case secretFile = "secret_file"
        case publicKeyFile = "public_key_file"
        case jwksFile = "jwks_file"
        case jwksURL = "jwks_url"
        case jwksRefresh = "jwks_refresh"
        case jwksMaxStale = "jwks_max_stale"
        case jwksCAFile = "jwks_ca_file"
        case audience

        static var secretsHint: String? { JWTConfig.Key.secretsHint }
    }

    /// Decodes one issuer; `isEntry` for a `[[jwt.issuers]]` entry, where `issuer` and
    /// `algorithms` are required (an entry is selected by its `iss`, and allows nothing by default).
    init(decoding table: ConfigTable<Key>, isEntry: Bool) {
        let defaults = IssuerConfig()
        let listedAlgorithms = table.array(.algorithms, Self.validateAlgorithm)
        self.init(
            issuer: table.nonEmptyString(.issuer, required: isEntry),
            algorithms: listedAlgorithms ?? (isEntry ? [] : defaults.algorithms),
            secretFile: table.filePath(.secretFile),
            publicKeyFile: table.filePath(.publicKeyFile),
            jwksFile: table.filePath(.jwksFile),
            jwksURL: table.parsed(.jwksURL, Self.validateJWKSURL),
            jwksRefresh: table.duration(.jwksRefresh) ?? defaults.jwksRefresh,
            jwksMaxStale: table.duration(.jwksMaxStale) ?? defaults.jwksMaxStale,
            jwksCAFile: table.filePath(.jwksCAFile),
            audience: table.nonEmptyString(.audience),
            configPath: table.path
        )
        if isEntry, !table.contains(.algorithms) {
            table.report(.algorithms, "missing required key", allowed: Self.algorithmNames)
        } else if listedAlgorithms?.isEmpty == true {
            table.report(.algorithms, "must name at least one algorithm", allowed: Self.algorithmNames)
        }
        if jwksRefresh < RemoteKeySet.refreshBounds.lowerBound {
            table.report(.jwksRefresh, "must be at least 1m", allowed: "1m..24h")
        }
        if jwksMaxStale < jwksRefresh || jwksMaxStale < .seconds(3600) {
            table.report(.jwksMaxStale, "must be at least 1h and at least jwks_refresh")
        }
        if algorithms.contains(where: { !$0.isHMAC }), publicKeyFile == nil, jwksFile == nil, jwksURL == nil {
            table.report(
                .algorithms,
                "public-key algorithms need \(table.keyPath(.publicKeyFile)), \(table.keyPath(.jwksFile)) or \(table.keyPath(.jwksURL))")
        }
    }

    /// Whether the HMAC secret comes from `JWT_SECRET_KEY`: an HS algorithm and no `secret_file`.
    var usesEnvironmentSecret: Bool { secretFile == nil && algorithms.contains(where: \.isHMAC) }

    /// An absolute `https` URL: keys are never fetched over plain HTTP.
    private static func validateJWKSURL(_ text: String) throws(ConfigValueProblem) -> String {
        guard let url = URL(string: text), url.scheme == "https", let host = url.host, !host.isEmpty, url.user == nil else {
            throw ConfigValueProblem("\(text.quotedForConfig) is not an https URL", allowed: "https://host[:port]/path")
        }
        return text
    }

    public static let algorithmNames = JWSAlgorithm.allCases.map(\.rawValue).joined(separator: ", ")

    private static func validateAlgorithm(_ text: String) throws(ConfigValueProblem) -> JWSAlgorithm {
        guard let algorithm = JWSAlgorithm(rawValue: text) else {
            throw ConfigValueProblem("unsupported algorithm \(text.quotedForConfig)", allowed: algorithmNames)
        }
        return algorithm
    }
}
