import Foundation

extension JWTConfig {
    /// The keys of `[jwt]`.
    enum Key: String, ConfigKeys {
        case algorithms
        case secretFile = "secret_file"
        case publicKeyFile = "public_key_file"
        case jwksFile = "jwks_file"
        case jwksURL = "jwks_url"
        case jwksRefresh = "jwks_refresh"
        case jwksCAFile = "jwks_ca_file"
        case issuer
        case audience
        case leeway
        case requireExpiry = "require_exp"
        case maxTokenLifetime = "max_token_lifetime"
        case rolesClaim = "roles_claim"
        case subjectHeader = "subject_header"
        case scopesHeader = "scopes_header"
        case tokenCacheEntries = "token_cache_entries"
        case claimHeaders = "claim_headers"

        static var secretsHint: String? { #"secret_file = "path", or the JWT_SECRET_KEY environment variable"# }
    }

    static let maximumLeeway = Duration.seconds(5 * 60)

    init(decoding table: ConfigTable<Key>) {
        let defaults = JWTConfig()
        self.init(
            algorithms: table.array(.algorithms, Self.validateAlgorithm) ?? defaults.algorithms,
            secretFile: table.filePath(.secretFile),
            publicKeyFile: table.filePath(.publicKeyFile),
            jwksFile: table.filePath(.jwksFile),
            jwksURL: table.parsed(.jwksURL, Self.validateJWKSURL),
            jwksRefresh: table.duration(.jwksRefresh) ?? defaults.jwksRefresh,
            jwksCAFile: table.filePath(.jwksCAFile),
            issuer: table.nonEmptyString(.issuer),
            audience: table.nonEmptyString(.audience),
            leeway: table.duration(.leeway, atMost: Self.maximumLeeway) ?? defaults.leeway,
            requireExpiry: table.bool(.requireExpiry) ?? defaults.requireExpiry,
            maxTokenLifetime: table.duration(.maxTokenLifetime),
            rolesClaim: table.nonEmptyString(.rolesClaim) ?? defaults.rolesClaim,
            subjectHeader: table.parsed(.subjectHeader, Self.validateHeaderName) ?? defaults.subjectHeader,
            scopesHeader: table.parsed(.scopesHeader, Self.validateHeaderName) ?? defaults.scopesHeader,
            claimHeaders: table.array(.claimHeaders, Self.validateClaimHeader) ?? defaults.claimHeaders,
            tokenCacheEntries: table.int(.tokenCacheEntries, in: 0...1_000_000) ?? defaults.tokenCacheEntries
        )
        if subjectHeader.lowercased() == scopesHeader.lowercased() {
            table.report(.scopesHeader, "must differ from subject_header")
        }
        let identityNames = [subjectHeader, scopesHeader].map { $0.lowercased() }
        if claimHeaders.contains(where: { identityNames.contains($0.header.lowercased()) }) {
            table.report(.claimHeaders, "must not reuse subject_header or scopes_header")
        }
        if Set(claimHeaders.map { $0.header.lowercased() }).count != claimHeaders.count {
            table.report(.claimHeaders, "must not name the same header twice")
        }
        if jwksRefresh < RemoteKeySet.refreshBounds.lowerBound {
            table.report(.jwksRefresh, "must be at least 1m", allowed: "1m..24h")
        }
        if algorithms.isEmpty {
            table.report(.algorithms, "must name at least one algorithm", allowed: Self.algorithmNames)
        }
        if algorithms.contains(where: { !$0.isHMAC }), publicKeyFile == nil, jwksFile == nil, jwksURL == nil {
            table.report(.algorithms, "public-key algorithms need jwt.public_key_file, jwt.jwks_file or jwt.jwks_url")
        }
    }

    /// An absolute `https` URL: keys are never fetched over plain HTTP.
    private static func validateJWKSURL(_ text: String) throws(ConfigValueProblem) -> String {
        guard let url = URL(string: text), url.scheme == "https", let host = url.host, !host.isEmpty, url.user == nil else {
            throw ConfigValueProblem("\(text.quotedForConfig) is not an https URL", allowed: "https://host[:port]/path")
        }
        return text
    }

    private static let algorithmNames = JWSAlgorithm.allCases.map(\.rawValue).joined(separator: ", ")

    private static func validateAlgorithm(_ text: String) throws(ConfigValueProblem) -> JWSAlgorithm {
        guard let algorithm = JWSAlgorithm(rawValue: text) else {
            throw ConfigValueProblem("unsupported algorithm \(text.quotedForConfig)", allowed: algorithmNames)
        }
        return algorithm
    }

    /// `claim=Header`.
    private static func validateClaimHeader(_ text: String) throws(ConfigValueProblem) -> ClaimHeader {
        let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, !parts[0].isEmpty else {
            throw ConfigValueProblem("\(text.quotedForConfig) is not claim=Header", allowed: #""email=X-Auth-Email""#)
        }
        return ClaimHeader(claim: parts[0], header: try validateHeaderName(parts[1]))
    }

    /// An HTTP field name the gateway may set: letters, digits and `-` (never `_`, which it drops).
    private static func validateHeaderName(_ text: String) throws(ConfigValueProblem) -> String {
        let isNameByte = { (byte: UInt8) in byte.isASCIIAlphanumeric || byte == UInt8(ascii: "-") }
        guard !text.isEmpty, text.utf8.count <= 64, text.utf8.allSatisfy(isNameByte) else {
            throw ConfigValueProblem("\(text.quotedForConfig) is not a valid header name", allowed: "letters, digits and -")
        }
        let lower = text.lowercased()
        guard !HeaderRules.reservedUpstreamHeaders.contains(lower), !lower.hasPrefix("content-"), !lower.hasPrefix("proxy-")
        else {
            throw ConfigValueProblem("\(text.quotedForConfig) is a header the gateway sets or strips itself")
        }
        return text
    }
}
