extension RouteConfig {
    /// The keys of a `[[route]]` entry.
    enum Key: String, ConfigKeys {
        case path
        case methods
        case upstream
        case stripPrefix = "strip_prefix"
        case auth
        case scopes
        case roles
        case issuers
        case login
        case isPublic = "public"
        case rateLimit = "rate_limit"
        case cors
        case allowClients = "allow_clients"
        case requestBuffering = "request_buffering"
        case contentTypes = "content_types"
        case maxBody = "max_body"
        case json
        case maxQueryParams = "max_query_params"
        case requiredHeaders = "required_headers"
        case schema
    }

    /// The methods a route may name, in the order they are listed in messages.
    static let knownMethods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

    /// Decodes a `[[route]]` entry; its `cors` keys go over `[cors]`.
    init(decoding table: ConfigTable<Key>, cors global: GlobalCORSConfig) {
        // An empty path or upstream stands for a missing or invalid one, already reported.
        let defaults = RouteConfig(path: "", upstream: "")
        self.init(
            path: table.parsed(.path, required: true, RoutePath.validate) ?? defaults.path,
            methods: Self.decodeMethods(table),
            upstream: table.nonEmptyString(.upstream, required: true) ?? defaults.upstream,
            stripPrefix: table.bool(.stripPrefix) ?? defaults.stripPrefix,
            auth: table.choice(.auth) ?? defaults.auth,
            scopes: table.array(.scopes, Self.validateToken) ?? defaults.scopes,
            roles: table.array(.roles, Self.validateToken) ?? defaults.roles,
            issuers: table.array(.issuers) { text throws(ConfigValueProblem) in text } ?? defaults.issuers,
            login: table.bool(.login) ?? defaults.login,
            isPublic: table.bool(.isPublic) ?? defaults.isPublic,
            rateLimit: RatePolicyConfig.list(table, .rateLimit),
            cors: Self.decodeCORS(table, global: global),
            allowClients: Self.decodeAllowClients(table),
            requestBuffering: table.bool(.requestBuffering) ?? defaults.requestBuffering,
            validation: ValidationConfig(decoding: table)
        )
        if requestBuffering, let maxBody = validation.maxBodyBytes, maxBody > ValidationConfig.maximumHeldBody {
            table.report(.maxBody, "a route with request_buffering holds its body in memory", allowed: "up to 1MiB")
        }
        if auth == .none, !scopes.isEmpty || !roles.isEmpty || !issuers.isEmpty {
            table.report(.auth, "must not be \"none\" on a route that requires scopes, roles or issuers", allowed: "required, optional")
        }
    }

    /// Policies keyed by subject or claim need a token on every request they count.
    func checkRateLimitKeys(_ table: ConfigTable<Key>, defaults: [RatePolicyConfig], defaultsPath: String) {
        guard auth != .required else { return }
        let policies = rateLimit ?? defaults
        for (index, policy) in policies.enumerated() where policy.key.needsIdentity {
            let message = "key \(policy.key) needs auth = \"required\" on \(table.path) (\(path)); use subject_or_ip or ip"
            if rateLimit != nil {
                table.context.report(table.elementPath(.rateLimit, index), message)
            } else {
                table.context.report("\(defaultsPath)[\(index)]", message)
            }
        }
    }

    /// Every name in `issuers` must be the `issuer` of a `[jwt]` issuer.
    func checkIssuersExist(_ table: ConfigTable<Key>, jwt: JWTConfig) {
        let known = jwt.issuers.compactMap(\.issuer)
        for (index, name) in issuers.enumerated() where !known.contains(name) {
            table.context.report(
                table.elementPath(.issuers, index), "no [jwt] issuer is \(name.quotedForConfig)",
                allowed: known.isEmpty ? "set jwt.issuer" : known.map(\.quotedForConfig).joined(separator: ", "))
        }
    }

    private static func decodeCORS(_ table: ConfigTable<Key>, global: GlobalCORSConfig) -> CORSConfig {
        guard table.contains(.cors) else { return global.defaults }
        let corsTable: ConfigTable<CORSConfig.Key> = table.section(.cors)
        let cors = CORSConfig(decoding: corsTable, over: global.defaults) { $0 }
        cors.checkOrigins(
            at: corsTable.keyPath(.allowedOrigins), context: table.context, allowInsecureOrigins: global.allowInsecureOrigins)
        return cors
    }

    /// A scope or role: printable ASCII without spaces (scopes travel space-separated).
    private static func validateToken(_ text: String) throws(ConfigValueProblem) -> String {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw ConfigValueProblem("\(text.quotedForConfig) is not a valid scope or role", allowed: "printable ASCII without spaces")
        }
        return text
    }

    /// The methods both routes accept, in ``knownMethods`` order; `nil` meaning every method.
    func sharedMethods(with other: RouteConfig) -> [String]? {
        switch (methods, other.methods) {
        case (nil, nil): nil
        case (let some?, nil), (nil, let some?): Self.knownMethods.filter(some.contains)
        case (let mine?, let theirs?): Self.knownMethods.filter { mine.contains($0) && theirs.contains($0) }
        }
    }

    private static func decodeMethods(_ table: ConfigTable<Key>) -> [String]? {
        guard let methods = table.array(.methods, validateMethod) else { return nil }
        guard !methods.isEmpty else {
            table.report(.methods, "must not be empty; leave it out to allow every method")
            return nil
        }
        for (index, method) in methods.enumerated() where methods[..<index].contains(method) {
            table.context.report(table.elementPath(.methods, index), "duplicate method \(method.quotedForConfig)")
        }
        return methods
    }

    private static func validateMethod(_ text: String) throws(ConfigValueProblem) -> String {
        let allowed = knownMethods.joined(separator: ", ")
        guard knownMethods.contains(text) else {
            let message =
                knownMethods.contains(text.uppercased())
                ? "method \(text.quotedForConfig) must be upper case"
                : "unknown method \(text.quotedForConfig)"
            throw ConfigValueProblem(message, allowed: allowed)
        }
        return text
    }
}
