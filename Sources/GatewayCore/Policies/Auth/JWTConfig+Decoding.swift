import Foundation

extension JWTConfig {
    /// The keys of `[jwt]`: its own, the `issuers` entries, and the keys of a lone issuer set here.
    enum Key: String, ConfigKeys {
        case issuers
        case leeway
        case requireExpiry = "require_exp"
        case maxTokenLifetime = "max_token_lifetime"
        case rolesClaim = "roles_claim"
        case subjectHeader = "subject_header"
        case scopesHeader = "scopes_header"
        case issuerHeader = "issuer_header"
        case tokenCacheEntries = "token_cache_entries"
        case claimHeaders = "claim_headers"
        // A lone issuer's keys (``IssuerConfig/Key``).
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

        static var secretsHint: String? { #"secret_file = "path", or the JWT_SECRET_KEY environment variable"# }
    }

    static let maximumLeeway = Duration.seconds(5 * 60)

    init(decoding table: ConfigTable<Key>) {
        let defaults = JWTConfig()
        let entries = table.entries(.issuers, keys: IssuerConfig.Key.self, required: false)
        self.init(
            issuers: entries.isEmpty && !table.contains(.issuers)
                ? [IssuerConfig(decoding: table.narrowed(to: IssuerConfig.Key.self), isEntry: false)]
                : entries.map { IssuerConfig(decoding: $0, isEntry: true) },
            leeway: table.duration(.leeway, atMost: Self.maximumLeeway) ?? defaults.leeway,
            requireExpiry: table.bool(.requireExpiry) ?? defaults.requireExpiry,
            maxTokenLifetime: table.duration(.maxTokenLifetime),
            rolesClaim: table.nonEmptyString(.rolesClaim) ?? defaults.rolesClaim,
            subjectHeader: table.parsed(.subjectHeader, Self.validateHeaderName) ?? defaults.subjectHeader,
            scopesHeader: table.parsed(.scopesHeader, Self.validateHeaderName) ?? defaults.scopesHeader,
            issuerHeader: table.parsed(.issuerHeader, Self.validateHeaderName) ?? defaults.issuerHeader,
            claimHeaders: table.array(.claimHeaders, Self.validateClaimHeader) ?? defaults.claimHeaders,
            tokenCacheEntries: table.int(.tokenCacheEntries, in: 0...1_000_000) ?? defaults.tokenCacheEntries
        )
        if table.contains(.issuers) { checkNoLoneIssuerKeys(table) }
        checkIssuersAreDistinct(table)
        checkIdentityHeadersAreDistinct(table)
    }

    /// With `[[jwt.issuers]]`, every issuer key belongs in an entry: one set in `[jwt]` would be ambiguous.
    private func checkNoLoneIssuerKeys(_ table: ConfigTable<Key>) {
        for key in IssuerConfig.Key.allCases {
            guard let jwtKey = Key(rawValue: key.rawValue), table.contains(jwtKey) else { continue }
            table.report(jwtKey, "with [[jwt.issuers]], set this in each issuer entry instead")
        }
    }

    private func checkIssuersAreDistinct(_ table: ConfigTable<Key>) {
        for (index, issuer) in issuers.enumerated() {
            let earlier = issuers[..<index]
            if let name = issuer.issuer, let first = earlier.first(where: { $0.issuer == name }) {
                table.context.report(
                    "\(issuer.configPath).issuer", "duplicate issuer \(name.quotedForConfig), already used by \(first.configPath)")
            }
            if let url = issuer.jwksURL, let first = earlier.first(where: { $0.jwksURL == url }) {
                table.context.report("\(issuer.configPath).jwks_url", "\(url.quotedForConfig) is already used by \(first.configPath)")
            }
            if issuer.usesEnvironmentSecret, let first = earlier.first(where: \.usesEnvironmentSecret) {
                table.context.report(
                    "\(issuer.configPath).secret_file",
                    "missing: \(first.configPath) already takes its secret from \(JWTSecret.environmentVariable); give each HMAC issuer a secret_file"
                )
            }
        }
    }

    private func checkIdentityHeadersAreDistinct(_ table: ConfigTable<Key>) {
        if subjectHeader.lowercased() == scopesHeader.lowercased() {
            table.report(.scopesHeader, "must differ from subject_header")
        }
        if issuerHeader.lowercased() == subjectHeader.lowercased() || issuerHeader.lowercased() == scopesHeader.lowercased() {
            table.report(.issuerHeader, "must differ from subject_header and scopes_header")
        }
        let identityNames = [subjectHeader, scopesHeader, issuerHeader].map { $0.lowercased() }
        if claimHeaders.contains(where: { identityNames.contains($0.header.lowercased()) }) {
            table.report(.claimHeaders, "must not reuse subject_header, scopes_header or issuer_header")
        }
        if Set(claimHeaders.map { $0.header.lowercased() }).count != claimHeaders.count {
            table.report(.claimHeaders, "must not name the same header twice")
        }
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
