/// CORS for a route: which browser origins may call it, and what they may send and read.
/// `[cors]` sets the default of every route; a route's `cors` table overrides it key by key.
public struct CORSConfig: Sendable, Equatable {
    /// Origins allowed to call; empty turns CORS off (no CORS headers, preflights are ordinary
    /// requests). Default none.
    public var allowedOrigins: [OriginPattern]
    /// Methods a preflight may ask for. Default GET, HEAD, POST.
    public var allowedMethods: [String]
    /// Request headers a preflight may ask for (compared without case). Default Authorization, Content-Type.
    public var allowedHeaders: [String]
    /// Response headers the page may read beyond the safelisted ones. Default none.
    public var exposeHeaders: [String]
    /// Let the browser send cookies and `Authorization` and read the answer. Default false.
    public var allowCredentials: Bool
    /// How long a browser may cache a preflight answer. Default 10m.
    public var maxAge: Duration
    /// Refuse (403) requests from origins not allowed, instead of answering without CORS headers. Default false.
    public var enforce: Bool

    public init(
        allowedOrigins: [OriginPattern] = [], allowedMethods: [String] = ["GET", "HEAD", "POST"],
        allowedHeaders: [String] = ["Authorization", "Content-Type"], exposeHeaders: [String] = [], allowCredentials: Bool = false,
        maxAge: Duration = .seconds(600), enforce: Bool = false
    ) {
        self.allowedOrigins = allowedOrigins
        self.allowedMethods = allowedMethods
        self.allowedHeaders = allowedHeaders
        self.exposeHeaders = exposeHeaders
        self.allowCredentials = allowCredentials
        self.maxAge = maxAge
        self.enforce = enforce
    }

    /// Whether CORS is on.
    public var isEnabled: Bool { !allowedOrigins.isEmpty }
}

/// `[cors]`: the default of every route, and what only makes sense once for the whole gateway.
public struct GlobalCORSConfig: Sendable, Equatable {
    public var defaults: CORSConfig
    /// Allow `http://` origins (a page served without TLS can be altered on the way). Default false.
    public var allowInsecureOrigins: Bool
    /// Preflights counted per client address by this policy alone, never by the protected
    /// routes' own. Default 120/minute.
    public var preflightRateLimit: RatePolicyConfig

    public init(
        defaults: CORSConfig = CORSConfig(), allowInsecureOrigins: Bool = false,
        preflightRateLimit: RatePolicyConfig = RatePolicyConfig(limit: 120, period: .minute, key: .ip)
    ) {
        self.defaults = defaults
        self.allowInsecureOrigins = allowInsecureOrigins
        self.preflightRateLimit = preflightRateLimit
    }
}
