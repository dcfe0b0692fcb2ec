extension CORSConfig {
    /// The keys of a route's `cors` table, which `[cors]` has too.
    enum Key: String, ConfigKeys {
        case allowedOrigins = "allowed_origins"
        case allowedMethods = "allowed_methods"
        case allowedHeaders = "allowed_headers"
        case exposeHeaders = "expose_headers"
        case allowCredentials = "allow_credentials"
        case maxAge = "max_age"
        case enforce
    }

    static let originFormat = #""https://app.example.com", "https://*.example.com", "null" or "*""#

    /// Decodes `table` over `defaults`: each key the table leaves out keeps the default's value.
    init<TableKey: ConfigKeys>(decoding table: ConfigTable<TableKey>, over defaults: CORSConfig, key: (Key) -> TableKey) {
        self.init(
            allowedOrigins: table.array(key(.allowedOrigins), Self.parseOrigin) ?? defaults.allowedOrigins,
            allowedMethods: table.array(key(.allowedMethods), Self.parseMethod) ?? defaults.allowedMethods,
            allowedHeaders: table.array(key(.allowedHeaders), ConfigHeaderName.parse) ?? defaults.allowedHeaders,
            exposeHeaders: table.array(key(.exposeHeaders), ConfigHeaderName.parse) ?? defaults.exposeHeaders,
            allowCredentials: table.bool(key(.allowCredentials)) ?? defaults.allowCredentials,
            maxAge: table.duration(key(.maxAge), atMost: .seconds(86_400)) ?? defaults.maxAge,
            enforce: table.bool(key(.enforce)) ?? defaults.enforce
        )
    }

    /// The linter's CORS rules, reported at the origins of `table` (or of `[cors]` for inherited ones).
    func checkOrigins(at originsPath: String, context: ConfigContext, allowInsecureOrigins: Bool) {
        for (index, pattern) in allowedOrigins.enumerated() {
            let path = "\(originsPath)[\(index)]"
            if pattern.isAny, allowCredentials {
                context.report(
                    path, #""*" with allow_credentials = true would let every site act as the signed-in user; list the origins"#)
            }
            if pattern.isNull, allowCredentials {
                context.report(
                    path, #""null" with allow_credentials = true: any site can send Origin: null from a sandboxed frame"#)
            }
            if pattern.isInsecure, !allowInsecureOrigins {
                context.report(
                    path,
                    "\(pattern.description.quotedForConfig) is served without TLS; use https, or set cors.allow_insecure_origins = true")
            }
        }
    }

    private static func parseOrigin(_ text: String) throws(ConfigValueProblem) -> OriginPattern {
        guard let pattern = OriginPattern(text) else {
            throw ConfigValueProblem("\(text.quotedForConfig) is not an origin", allowed: originFormat)
        }
        return pattern
    }

    private static func parseMethod(_ text: String) throws(ConfigValueProblem) -> String {
        guard RouteConfig.knownMethods.contains(text) else {
            throw ConfigValueProblem(
                "unsupported method \(text.quotedForConfig)", allowed: RouteConfig.knownMethods.joined(separator: ", "))
        }
        return text
    }
}

extension GlobalCORSConfig {
    /// The keys of `[cors]`.
    enum Key: String, ConfigKeys {
        case allowedOrigins = "allowed_origins"
        case allowedMethods = "allowed_methods"
        case allowedHeaders = "allowed_headers"
        case exposeHeaders = "expose_headers"
        case allowCredentials = "allow_credentials"
        case maxAge = "max_age"
        case enforce
        case allowInsecureOrigins = "allow_insecure_origins"
        case preflightRateLimit = "preflight_rate_limit"
    }

    init(decoding table: ConfigTable<Key>) {
        let defaults = GlobalCORSConfig()
        self.init(
            defaults: CORSConfig(decoding: table, over: defaults.defaults) { Key(rawValue: $0.rawValue)! },
            allowInsecureOrigins: table.bool(.allowInsecureOrigins) ?? defaults.allowInsecureOrigins,
            preflightRateLimit: table.parsed(.preflightRateLimit) { text throws(ConfigValueProblem) in
                var policy = try RatePolicyConfig(rate: text)
                policy.key = .ip
                return policy
            } ?? defaults.preflightRateLimit
        )
        self.defaults.checkOrigins(at: table.keyPath(.allowedOrigins), context: table.context, allowInsecureOrigins: allowInsecureOrigins)
    }
}
