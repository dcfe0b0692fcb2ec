/// A route compiled from config: immutable, shared by every connection. A class, so that a request
/// holds it with one reference rather than copying its sets, strings and policy chain.
public final class Route: Sendable {
    /// Position in the config file, for messages and metrics.
    public let index: Int
    public let prefix: String
    /// The methods the route takes; every standard method when the config names none.
    public let methods: Set<String>
    public let upstream: String
    public let stripPrefix: Bool
    public let auth: AuthMode
    public let scopes: [String]
    public let roles: [String]
    /// The issuers whose tokens the route accepts; empty for every issuer.
    public let issuers: Set<String>
    /// Upstream 401s count towards the login locks; the body is read whole before forwarding.
    public let login: Bool
    /// The route's CORS, which also answers its preflights.
    let cors: CORSPolicy
    let validation: RequestValidation
    /// The checks every request head goes through once routed, in order.
    let headPolicies: [any HeadPolicy]
    /// The checks of a held body, in order; empty when the route streams bodies.
    let bodyPolicies: [any BodyPolicy]

    init(
        index: Int, config: RouteConfig, defaultRateLimits: RateLimitPolicySet = RateLimitPolicySet([]),
        serverMaxBodyBytes: Int64 = ServerConfig.defaultMaxBodyBytes
    ) {
        self.index = index
        self.prefix = config.path
        self.methods = Set(config.methods ?? Self.standardMethods)
        self.upstream = config.upstream
        self.stripPrefix = config.stripPrefix
        self.auth = config.auth
        self.scopes = config.scopes
        self.roles = config.roles
        self.issuers = Set(config.issuers)
        self.login = config.login
        self.cors = CORSPolicy(config.cors)
        self.validation = RequestValidation(
            config.validation, serverMaxBodyBytes: serverMaxBodyBytes, heldWhole: config.validation.holdsBody || config.requestBuffering)
        let scope = RateLimitPolicy.scope(of: config)
        let rateLimits = config.rateLimit.map { RateLimitPolicySet($0.map { RateLimitPolicy($0, scope: scope) }) } ?? defaultRateLimits
        // The route's chain. A new policy is one more line here, with its folder under Policies/.
        let head: [(any HeadPolicy)?] = [
            cors.isEnabled ? cors : nil,
            config.allowClients.map(ClientAllowlist.init(networks:)),
            BodySizeLimit(maxBodyBytes: validation.maxBodyBytes),
            config.auth == .none ? nil : TokenRequirement(),
            rateLimits.policies.isEmpty ? nil : rateLimits,
            validation,
        ]
        let body: [(any BodyPolicy)?] = [
            validation.config.holdsBody ? validation : nil,
            config.login ? LoginPolicy() : nil,
            config.requestBuffering ? RequestBuffering(heldBodyLimit: Int(validation.maxBodyBytes)) : nil,
        ]
        self.headPolicies = head.compactMap { $0 }
        self.bodyPolicies = body.compactMap { $0 }
    }

    /// What a route without `methods` takes. CONNECT, TRACE and unknown methods are never forwarded.
    public static let standardMethods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

    /// The path the upstream receives for a normalised request path under this route.
    public func upstreamPath(for path: String) -> String {
        guard stripPrefix, prefix != "/" else { return path }
        let rest = path.dropFirst(prefix.count)
        return rest.isEmpty ? "/" : String(rest)
    }
}

/// Longest-prefix routing on path-segment boundaries, ignoring ASCII letter case: many backends
/// treat `/Admin` as `/admin`, so a request must not slip past the stricter route's policy by
/// changing case. The upstream still receives the path as the client wrote it.
public struct RouteTable: Sendable {
    /// The result of looking up a request.
    public enum Match {
        case route(Route)
        /// The path matched, the method did not; `allow` lists what would have.
        case methodNotAllowed(allow: [String])
        case notFound
    }

    /// Routes grouped by prefix, longest prefix first.
    private let groups: [(prefix: String, routes: [Route])]

    /// Every route, in config order.
    var all: [Route] { groups.flatMap(\.routes).sorted { $0.index < $1.index } }

    /// `defaultRateLimits` are the policies of routes without their own (`[rate_limit] default`);
    /// `serverMaxBodyBytes` the body limit of routes without their own `max_body`.
    public init(
        _ routes: [RouteConfig], defaultRateLimits: [RatePolicyConfig] = [],
        serverMaxBodyBytes: Int64 = ServerConfig.defaultMaxBodyBytes
    ) {
        let defaults = RateLimitPolicySet(defaultRateLimits.map { RateLimitPolicy($0, scope: RateLimitPolicy.defaultScope) })
        var byPrefix: [String: [Route]] = [:]
        for (index, config) in routes.enumerated() {
            byPrefix[config.path.lowercased(), default: []].append(
                Route(index: index, config: config, defaultRateLimits: defaults, serverMaxBodyBytes: serverMaxBodyBytes))
        }
        groups = byPrefix.map { (prefix: $0.key, routes: $0.value) }.sorted { $0.prefix.utf8.count > $1.prefix.utf8.count }
    }

    /// Finds the route for a normalised path and a method.
    public func match(path: String, method: String) -> Match {
        guard let group = groups.first(where: { Self.path(path, isUnder: $0.prefix) }) else { return .notFound }
        if let route = group.routes.first(where: { $0.methods.contains(method) }) {
            return .route(route)
        }
        let allow = Set(group.routes.flatMap(\.methods))
        return .methodNotAllowed(allow: allow.sorted())
    }

    /// Whether `path` is `prefix` or below it; `prefix` is lower-case.
    static func path(_ path: String, isUnder prefix: String) -> Bool {
        guard prefix != "/" else { return true }
        var pathBytes = path.utf8.makeIterator()
        for expected in prefix.utf8 {
            guard let byte = pathBytes.next(), byte.asciiLowercased == expected else { return false }
        }
        let next = pathBytes.next()
        return next == nil || next == UInt8(ascii: "/")
    }
}

extension UInt8 {
    fileprivate var asciiLowercased: UInt8 {
        self >= UInt8(ascii: "A") && self <= UInt8(ascii: "Z") ? self | 0x20 : self
    }
}
