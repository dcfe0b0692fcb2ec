extension GatewayConfig {
    /// The linter's rules that need more than one table: setups that are valid TOML and valid
    /// values, and still unsafe. Each is an error (check-config, start-up and reload refuse it) or a
    /// warning (the gateway starts, and says so). Rules about one value sit with its decoding:
    /// `trusted_proxies` of /0, `*` origins with credentials, `http://` origins.
    func lint(
        jwtTable: ConfigTable<JWTConfig.Key>, routeTables: [ConfigTable<RouteConfig.Key>], context: ConfigContext
    ) {
        lintIssuers(jwtTable, context: context)
        lintPublicRoutes(routeTables)
        if let listen = admin.listen, !AdminConfig.isLoopback(listen.host) {
            context.warn(
                "admin.listen",
                "\(listen) is not a loopback address: the admin listener is plain HTTP; allowed_clients still decides who may use it")
        }
        if server.acmeChallengeDir != nil, server.redirectHTTPListen == nil {
            context.warn(
                "server.acme_challenge_dir",
                "server.redirect_http_listen is not set: challenges are answered only on a redirect socket systemd passes")
        }
        if !tls.hsts { context.warn("tls.hsts", "HSTS is off: a browser may be talked into plain HTTP first") }
        if store.auditRetention < .seconds(7 * 86_400) {
            context.warn("store.audit_retention", "audit events are kept \(store.auditRetention.configDescription), less than 7d")
        }
    }

    private func lintIssuers(_ jwtTable: ConfigTable<JWTConfig.Key>, context: ConfigContext) {
        let needsTokens = routes.contains { $0.auth != .none }
        if needsTokens, !jwtTable.contains(.issuers), !jwtTable.contains(.algorithms) {
            jwtTable.report(
                .algorithms, "missing: routes require tokens, so name the algorithms they may be signed with",
                allowed: IssuerConfig.algorithmNames)
        }
        for issuer in jwt.issuers {
            let usesPublicKeys = issuer.publicKeyFile != nil || issuer.jwksFile != nil || issuer.jwksURL != nil
            if usesPublicKeys, issuer.audience == nil {
                context.report(
                    "\(issuer.configPath).audience",
                    "missing: an issuer verified with public keys is an identity provider others use too; require this gateway's audience")
            }
            if issuer.jwksURL != nil, issuer.algorithms.contains(where: \.isHMAC) {
                context.report(
                    "\(issuer.configPath).algorithms",
                    "HS algorithms beside jwks_url: an issuer that publishes its keys signs with private keys, not a shared secret")
            }
        }
    }

    /// An `auth = "none"` route whose upstream paths overlap those of an `auth = "required"` route of
    /// the same upstream needs `public = true`: with `strip_prefix`, `/public/users/me` can reach
    /// what `/users` protects.
    private func lintPublicRoutes(_ tables: [ConfigTable<RouteConfig.Key>]) {
        for (index, open) in routes.enumerated() where open.auth == .none && !open.isPublic {
            let openPrefix = open.upstreamPrefix
            for (otherIndex, protected) in routes.enumerated()
            where protected.auth == .required && protected.upstream == open.upstream {
                let protectedPrefix = protected.upstreamPrefix
                guard RouteTable.path(protectedPrefix, isUnder: openPrefix) || RouteTable.path(openPrefix, isUnder: protectedPrefix)
                else { continue }
                tables[index].report(
                    .auth,
                    #"auth = "none" forwards to upstream "\#(open.upstream)" paths under \#(openPrefix), which route[\#(otherIndex)] (\#(protected.path)) requires a token for; set public = true if that is intended"#
                )
                break
            }
        }
    }
}

extension RouteConfig {
    /// The upstream paths the route can reach: everything with `strip_prefix`, else its own prefix.
    var upstreamPrefix: String { stripPrefix ? "/" : path.lowercased() }
}
