extension GatewayConfig {
    /// A short human-readable overview for `gateway check-config`: listeners, upstreams,
    /// routes and the store, one per line. Holds no secrets (the config has none).
    public var summary: String {
        var lines = ["config \(sourcePath)", "listeners:"]
        let hsts = tls.hsts ? "HSTS max-age \(tls.hstsMaxAge.configDescription)" : "no HSTS"
        lines.append("  https://\(server.listen) (TLS \(tls.minVersion.rawValue)+, \(hsts))")
        if tls.certificates.count > 1 {
            for (index, certificate) in tls.certificates.enumerated() {
                let names = certificate.serverNames.map { $0.map(\.name).joined(separator: ", ") } ?? "the DNS names it holds"
                lines.append("    certificate \(certificate.certificatePath) for \(names)" + (index == 0 ? ", and by default" : ""))
            }
        }
        if let redirect = server.redirectHTTPListen {
            let challenges = server.acmeChallengeDir.map { "; ACME challenges from \($0)" } ?? ""
            lines.append("  http://\(redirect) (redirects to https\(challenges))")
        }
        let proxies = server.trustedProxies.map(\.description).joined(separator: ", ")
        lines.append("trusted proxies: \(proxies.isEmpty ? "none" : proxies)")
        lines.append("upstreams:")
        for upstream in upstreams {
            let targets = upstream.targets.map { "http://\($0)" }.joined(separator: ", ")
            let check = upstream.healthCheck.path.map { "GET \($0)" } ?? "TCP connect"
            lines.append("  \(upstream.name) → \(targets) (checked by \(check) every \(upstream.healthCheck.interval.configDescription))")
        }
        lines.append("token issuers:")
        for issuer in jwt.issuers {
            let name = issuer.issuer.map { "\"\($0)\"" } ?? "any iss"
            let keys = [
                issuer.secretFile.map { _ in "secret_file" } ?? (issuer.usesEnvironmentSecret ? "JWT_SECRET_KEY" : nil),
                issuer.publicKeyFile.map { _ in "public_key_file" }, issuer.jwksFile.map { _ in "jwks_file" }, issuer.jwksURL,
            ].compactMap { $0 }.joined(separator: ", ")
            let algorithms = issuer.algorithms.map(\.rawValue).joined(separator: ",")
            lines.append("  \(name) (\(algorithms); keys: \(keys.isEmpty ? "none" : keys); audience \(issuer.audience ?? "not checked"))")
        }
        lines.append("routes:")
        for route in routes {
            let methods = route.methods?.joined(separator: ",") ?? "*"
            let strip = route.stripPrefix ? ", strip prefix" : ""
            let login = route.login ? ", login" : ""
            let limits = route.rateLimit.map { $0.isEmpty ? ", no rate limit" : ", rate limit " + Self.describe($0) } ?? ""
            lines.append("  \(methods) \(route.path) (auth \(route.auth.rawValue)\(strip)\(login)\(limits)) → \(route.upstream)")
        }
        if routes.contains(where: \.login) {
            let login = loginProtection
            lines.append(
                "login protection: lock after \(login.maxFailuresPerClient) failures per client, "
                    + "\(login.maxFailuresPerUsername) per username (0 = off) within \(login.window.configDescription), "
                    + "for \(login.cooldown.configDescription)")
        }
        if !rateLimit.defaultPolicies.isEmpty {
            lines.append("default rate limit: \(Self.describe(rateLimit.defaultPolicies)) (at most \(rateLimit.maxKeys) counters)")
        }
        lines.append(
            "store: \(store.path) (audit kept \(store.auditRetention.configDescription), "
                + "queue \(store.auditQueueSize), \(store.onAuditOverflow.rawValue) on overflow)")
        return lines.joined(separator: "\n")
    }

    private static func describe(_ policies: [RatePolicyConfig]) -> String {
        policies.map { "\($0.rate) by \($0.key)" + ($0.mode == .shadow ? " (shadow)" : "") }.joined(separator: ", ")
    }
}
