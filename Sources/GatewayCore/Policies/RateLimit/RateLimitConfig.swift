/// `[rate_limit]`: the policies every route gets unless it sets its own, and how the limiter keys,
/// bounds and reports them.
public struct RateLimitConfig: Sendable, Equatable {
    /// Policies of every route without a `rate_limit` of its own; their counters are shared by all
    /// those routes. Default none.
    public var defaultPolicies: [RatePolicyConfig]
    /// An IPv6 client is keyed by its network of this many bits (one host usually has a whole /64). Default 64.
    public var ipv6Prefix: Int
    /// Keys the limiter remembers at most; beyond, one of the least recently used is evicted (and counted). Default 100,000.
    public var maxKeys: Int
    /// Allowed responses carry the `RateLimit` and `RateLimit-Policy` headers too (429s always do). Default true.
    public var responseHeaders: Bool

    public init(defaultPolicies: [RatePolicyConfig] = [], ipv6Prefix: Int = 64, maxKeys: Int = 100_000, responseHeaders: Bool = true) {
        self.defaultPolicies = defaultPolicies
        self.ipv6Prefix = ipv6Prefix
        self.maxKeys = maxKeys
        self.responseHeaders = responseHeaders
    }
}

/// One rate policy: at most `limit` requests per `period` for each value of `key`.
public struct RatePolicyConfig: Sendable, Equatable {
    public var limit: Int
    public var period: RatePeriod
    public var key: RateLimitKey
    public var mode: RateLimitMode

    public init(limit: Int, period: RatePeriod, key: RateLimitKey = .subjectOrIP, mode: RateLimitMode = .enforce) {
        self.limit = limit
        self.period = period
        self.key = key
        self.mode = mode
    }

    /// `50/hour`, as written in the config.
    public var rate: String { "\(limit)/\(period.rawValue)" }
}

/// The unit of a rate.
public enum RatePeriod: String, Sendable, CaseIterable {
    case second, minute, hour, day

    public var seconds: Int64 {
        switch self {
        case .second: 1
        case .minute: 60
        case .hour: 3_600
        case .day: 86_400
        }
    }
}

/// What a policy counts requests by.
public enum RateLimitKey: Sendable, Hashable, CustomStringConvertible {
    /// The resolved client address (an IPv6 address by its network, ``RateLimitConfig/ipv6Prefix``).
    case ip
    /// The verified token's issuer and subject; only on routes with `auth = "required"`.
    case subject
    /// The subject when a token was verified, else the client address.
    case subjectOrIP
    /// The value of a request header (lower-cased name); a request without it shares one count.
    case header(String)
    /// The value of a verified token's claim; only on routes with `auth = "required"`.
    case claim(String)

    public var description: String {
        switch self {
        case .ip: "ip"
        case .subject: "subject"
        case .subjectOrIP: "subject_or_ip"
        case .header(let name): "header:\(name)"
        case .claim(let name): "claim:\(name)"
        }
    }

    /// Whether the key needs a verified token on every request it counts.
    var needsIdentity: Bool {
        switch self {
        case .subject, .claim: true
        case .ip, .subjectOrIP, .header: false
        }
    }
}

/// Whether a policy refuses requests over the limit, or only records that it would have.
public enum RateLimitMode: String, Sendable, CaseIterable {
    /// Over the limit → 429.
    case enforce
    /// Over the limit → counted and audited as `rate_limited`, and the request passes.
    case shadow
}
