import TOMLKit

extension GatewayConfig {
    /// The top-level tables of the file. A new table is a new case here, a `Key` enum for its
    /// own keys, and a line in ``init(decoding:context:)``.
    enum Key: String, ConfigKeys {
        case server
        case tls
        case jwt
        case upstream
        case route
        case store
        case loginProtection = "login_protection"
        case rateLimit = "rate_limit"
        case cors
        case admin
        case log
    }

    /// Decodes and validates the whole document, reporting every problem to `context`.
    /// The result is meaningful only if no problem was reported.
    init(decoding root: TOMLTable, context: ConfigContext) {
        let document = ConfigTable<Key>(root, path: "", context: context)
        let server = ServerConfig(decoding: document.section(.server))
        let tls = TLSConfig(decoding: document.section(.tls))
        let jwtTable: ConfigTable<JWTConfig.Key> = document.section(.jwt)
        let jwt = JWTConfig(decoding: jwtTable)
        let upstreamTables = document.entries(.upstream, keys: UpstreamConfig.Key.self)
        let routeTables = document.entries(.route, keys: RouteConfig.Key.self)
        let cors = GlobalCORSConfig(decoding: document.section(.cors))
        self.init(
            sourcePath: context.file,
            server: server,
            tls: tls,
            jwt: jwt,
            upstreams: upstreamTables.map(UpstreamConfig.init(decoding:)),
            routes: routeTables.map { RouteConfig(decoding: $0, cors: cors) },
            store: StoreConfig(decoding: document.section(.store)),
            loginProtection: LoginProtectionConfig(decoding: document.section(.loginProtection)),
            rateLimit: RateLimitConfig(decoding: document.section(.rateLimit)),
            cors: cors,
            admin: AdminConfig(decoding: document.section(.admin)),
            log: LogConfig(decoding: document.section(.log))
        )
        checkUpstreamNamesAreUnique(upstreamTables)
        checkRouteUpstreamsExist(routeTables)
        checkRoutesDoNotOverlap(routeTables)
        for (route, table) in zip(routes, routeTables) {
            route.checkIssuersExist(table, jwt: jwt)
            route.checkRateLimitKeys(table, defaults: rateLimit.defaultPolicies, defaultsPath: "rate_limit.default")
        }
        lint(jwtTable: jwtTable, routeTables: routeTables, context: context)
    }

    private func checkUpstreamNamesAreUnique(_ tables: [ConfigTable<UpstreamConfig.Key>]) {
        for (index, upstream) in upstreams.enumerated() where !upstream.name.isEmpty {
            if let first = upstreams[..<index].firstIndex(where: { $0.name == upstream.name }) {
                tables[index].report(.name, "duplicate name \(upstream.name.quotedForConfig), already used by \(tables[first].path)")
            }
        }
    }

    private func checkRouteUpstreamsExist(_ tables: [ConfigTable<RouteConfig.Key>]) {
        let names = upstreams.map(\.name).filter { !$0.isEmpty }
        for (index, route) in routes.enumerated() where !route.upstream.isEmpty && !names.contains(route.upstream) {
            tables[index].report(
                .upstream,
                "no upstream named \(route.upstream.quotedForConfig)",
                allowed: names.isEmpty ? nil : names.joined(separator: ", ")
            )
        }
    }

    private func checkRoutesDoNotOverlap(_ tables: [ConfigTable<RouteConfig.Key>]) {
        for (index, route) in routes.enumerated() where !route.path.isEmpty {
            // Routing ignores letter case, so "/Admin" and "/admin" are one prefix.
            for (earlierIndex, earlier) in routes[..<index].enumerated() where earlier.path.lowercased() == route.path.lowercased() {
                let shared = route.sharedMethods(with: earlier)
                guard shared.map({ !$0.isEmpty }) ?? true else { continue }
                let methods = shared?.joined(separator: ", ") ?? "every method"
                tables[index].report(
                    .path, "\(route.path.quotedForConfig) is already routed by \(tables[earlierIndex].path) for \(methods)")
                break
            }
        }
    }
}
