import Foundation
import PostgresSupport

/// The validated, immutable configuration snapshot the gateway runs on.
///
/// Built once by ``ConfigLoader`` from the TOML file; every value here has already been checked,
/// so the data plane never re-validates. Secrets are not part of it: they are read from files or
/// the environment by the components that need them.
public struct GatewayConfig: Sendable {
    /// Where the file came from, for messages.
    public var sourcePath: String
    public var server: ServerConfig
    public var tls: TLSConfig
    public var jwt: JWTConfig
    public var upstreams: [UpstreamConfig]
    public var routes: [RouteConfig]
    public var store: StoreConfig
    public var loginProtection: LoginProtectionConfig
    public var rateLimit: RateLimitConfig
    public var cors: GlobalCORSConfig
    public var admin: AdminConfig
    public var log: LogConfig
    /// What the linter found weaker than it should be, though allowed: `check-config` prints it
    /// and the daemon logs it at start.
    public var warnings: [ConfigProblem] = []

    public init(
        sourcePath: String,
        server: ServerConfig,
        tls: TLSConfig,
        jwt: JWTConfig,
        upstreams: [UpstreamConfig],
        routes: [RouteConfig],
        store: StoreConfig = StoreConfig(),
        loginProtection: LoginProtectionConfig = LoginProtectionConfig(),
        rateLimit: RateLimitConfig = RateLimitConfig(),
        cors: GlobalCORSConfig = GlobalCORSConfig(),
        admin: AdminConfig = AdminConfig(),
        log: LogConfig = LogConfig()
    ) {
        self.sourcePath = sourcePath
        self.server = server
        self.tls = tls
        self.jwt = jwt
        self.upstreams = upstreams
        self.routes = routes
        self.store = store
        self.loginProtection = loginProtection
        self.rateLimit = rateLimit
        self.cors = cors
        self.admin = admin
        self.log = log
    }
}

/// A host and port to listen on or connect to.
public struct HostPort: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// `[server]`: listeners, trust and limits.
public struct ServerConfig: Sendable {
    /// `max_body_bytes` when the file does not set it: 1 MiB.
    public static let defaultMaxBodyBytes: Int64 = 1024 * 1024

    /// The TLS listener. Default `127.0.0.1:8443`.
    public var listen: HostPort
    /// Optional plain-HTTP listener that answers `308` redirects to https (and ACME challenges).
    public var redirectHTTPListen: HostPort?
    /// certbot's webroot (`certbot certonly --webroot -w DIR`): the redirect listener answers
    /// `GET /.well-known/acme-challenge/TOKEN` from `DIR/.well-known/acme-challenge/TOKEN`. Default off.
    public var acmeChallengeDir: String?
    /// Peers whose `X-Forwarded-For` and `X-Request-ID` are believed. Default: none.
    public var trustedProxies: [CIDR]
    /// Request line plus all header fields. Default 16 KiB.
    public var maxHeaderBytes: Int
    /// Largest request body accepted. Default 1 MiB.
    public var maxBodyBytes: Int64
    /// How long a keep-alive connection may wait for its next request. Default 60s.
    public var idleTimeout: Duration
    /// How long a client may take to send a complete request head. Default 10s.
    public var requestHeaderTimeout: Duration
    /// How long a client may take to send a whole request body, from its head. Default 60s.
    public var requestBodyTimeout: Duration
    /// The slowest a request body may arrive, averaged from its head, once
    /// ``requestBodyRateGrace`` has passed; 0 turns the check off. Default 1 KiB/s.
    public var requestBodyMinRate: Int
    /// Open client connections at most; more are closed on accept. Default 10,000.
    public var maxConnections: Int
    /// Request bytes held in memory at once, over every connection (bodies checked or buffered
    /// before forwarding); a request that would go beyond is refused with 503. Default 128 MiB.
    public var heldBodyBudget: Int64
    /// Open connections from one client address (the TCP peer, never `X-Forwarded-For`) at most,
    /// over the TLS and redirect listeners; more are closed on accept. Default 256.
    public var maxConnectionsPerClient: Int
    /// How long a shutdown lets requests in flight finish before closing their connections. Default 10s.
    public var drainTimeout: Duration
    /// Offer HTTP/2 (ALPN `h2`) beside HTTP/1.1. Default on; off, ALPN offers `http/1.1` only.
    public var http2: Bool
    /// Streams one HTTP/2 connection may have open at once (`SETTINGS_MAX_CONCURRENT_STREAMS`);
    /// more are refused with `REFUSED_STREAM`. Default 100.
    public var http2MaxConcurrentStreams: Int
    /// This gateway's name among several on one store: it labels its audit rows and their hash
    /// chain. Default: the host name.
    public var nodeName: String

    public init(
        listen: HostPort = HostPort(host: "127.0.0.1", port: 8443),
        redirectHTTPListen: HostPort? = nil,
        acmeChallengeDir: String? = nil,
        trustedProxies: [CIDR] = [],
        maxHeaderBytes: Int = 16 * 1024,
        maxBodyBytes: Int64 = ServerConfig.defaultMaxBodyBytes,
        idleTimeout: Duration = .seconds(60),
        requestHeaderTimeout: Duration = .seconds(10),
        requestBodyTimeout: Duration = .seconds(60),
        requestBodyMinRate: Int = 1024,
        maxConnections: Int = 10_000,
        heldBodyBudget: Int64 = 128 << 20,
        maxConnectionsPerClient: Int = 256,
        drainTimeout: Duration = .seconds(10),
        http2: Bool = true,
        http2MaxConcurrentStreams: Int = 100,
        nodeName: String = ProcessInfo.processInfo.hostName
    ) {
        self.listen = listen
        self.redirectHTTPListen = redirectHTTPListen
        self.acmeChallengeDir = acmeChallengeDir
        self.trustedProxies = trustedProxies
        self.maxHeaderBytes = maxHeaderBytes
        self.maxBodyBytes = maxBodyBytes
        self.idleTimeout = idleTimeout
        self.requestHeaderTimeout = requestHeaderTimeout
        self.requestBodyTimeout = requestBodyTimeout
        self.requestBodyMinRate = requestBodyMinRate
        self.maxConnections = maxConnections
        self.heldBodyBudget = heldBodyBudget
        self.maxConnectionsPerClient = maxConnectionsPerClient
        self.drainTimeout = drainTimeout
        self.http2 = http2
        self.http2MaxConcurrentStreams = http2MaxConcurrentStreams
        self.nodeName = nodeName
    }

    /// How long a body may arrive slower than ``requestBodyMinRate`` before the rate is checked:
    /// a client's first bytes may wait on a slow start.
    public static let requestBodyRateGrace = Duration.seconds(5)
}

/// The lowest TLS protocol version the listener accepts.
public enum TLSMinimumVersion: String, Sendable, CaseIterable {
    // swift-format-ignore: AlwaysUseLowerCamelCase
    case v1_2 = "1.2"
    // swift-format-ignore: AlwaysUseLowerCamelCase
    case v1_3 = "1.3"
}

/// `[tls]`: the certificates and keys, and protocol policy.
///
/// One certificate is set by `certificate` and `private_key` in `[tls]` itself; several, chosen by
/// the name the client asks for (SNI), are each a `[[tls.certificates]]` entry, the first of
/// which is the default.
public struct TLSConfig: Sendable {
    /// The certificates served, at least one; the first is the default.
    public var certificates: [TLSCertificateConfig]
    /// Default `1.2`.
    public var minVersion: TLSMinimumVersion
    /// Send `Strict-Transport-Security`. Default on.
    public var hsts: Bool
    /// `max-age` of the HSTS header. Default 365 days.
    public var hstsMaxAge: Duration

    /// One certificate, as `[tls] certificate` and `private_key` set it.
    public init(
        certificatePath: String,
        privateKeyPath: String,
        minVersion: TLSMinimumVersion = .v1_2,
        hsts: Bool = true,
        hstsMaxAge: Duration = .seconds(31_536_000)
    ) {
        self.init(
            certificates: [TLSCertificateConfig(certificatePath: certificatePath, privateKeyPath: privateKeyPath)],
            minVersion: minVersion, hsts: hsts, hstsMaxAge: hstsMaxAge)
    }

    /// Several certificates, as `[[tls.certificates]]` entries set them; the first is the default.
    public init(
        certificates: [TLSCertificateConfig],
        minVersion: TLSMinimumVersion = .v1_2,
        hsts: Bool = true,
        hstsMaxAge: Duration = .seconds(31_536_000)
    ) {
        self.certificates = certificates
        self.minVersion = minVersion
        self.hsts = hsts
        self.hstsMaxAge = hstsMaxAge
    }

    /// The default certificate's PEM file.
    public var certificatePath: String {
        get { certificates.first?.certificatePath ?? "" }
        set { certificates[0].certificatePath = newValue }
    }

    /// The default certificate's private key file.
    public var privateKeyPath: String {
        get { certificates.first?.privateKeyPath ?? "" }
        set { certificates[0].privateKeyPath = newValue }
    }
}

/// One certificate the TLS listener serves: `[tls] certificate` and `private_key`, or one
/// `[[tls.certificates]]` entry.
public struct TLSCertificateConfig: Sendable, Equatable {
    /// PEM file with the leaf certificate first, then intermediates.
    public var certificatePath: String
    /// PEM file with the private key (RSA or ECDSA).
    public var privateKeyPath: String
    /// The SNI names this certificate is served for, each covered by its subjectAltName; `nil`
    /// takes them from its subjectAltName's DNS names.
    public var serverNames: [ServerName]?
    /// Where it is set, for messages: `tls`, or `tls.certificates[1]`.
    public var configPath: String

    public init(certificatePath: String, privateKeyPath: String, serverNames: [ServerName]? = nil, configPath: String = "tls") {
        self.certificatePath = certificatePath
        self.privateKeyPath = privateKeyPath
        self.serverNames = serverNames
        self.configPath = configPath
    }
}

/// `[jwt]`: how bearer tokens are verified, and what of a verified token goes upstream.
///
/// Each token is verified under the issuer its `iss` claim names (``IssuerConfig``). A config
/// with one issuer sets its keys in `[jwt]` itself; with several, each is a `[[jwt.issuers]]` entry.
public struct JWTConfig: Sendable {
    /// The issuers tokens are accepted from; at least one, and each names its `iss` when there are several.
    public var issuers: [IssuerConfig]
    /// Clock skew allowed for `exp`, `nbf` and `iat`. Default 30s.
    public var leeway: Duration
    /// Refuse tokens without `exp`. Default true.
    public var requireExpiry: Bool
    /// Refuse tokens whose `exp` is further than this after their `iat` (which then is required). Default: no limit.
    public var maxTokenLifetime: Duration?
    /// The claim holding the caller's roles (an array of strings, or one string). Default `roles`.
    public var rolesClaim: String
    /// Header that carries the verified `sub` upstream. Default `X-Auth-Subject`.
    public var subjectHeader: String
    /// Header that carries the verified scopes upstream, space-separated. Default `X-Auth-Scopes`.
    public var scopesHeader: String
    /// Header that carries the verified `iss` upstream, when the token has one. Default `X-Auth-Issuer`.
    public var issuerHeader: String
    /// Further claims sent upstream, each under its own header (`claim=Header`). Default none.
    public var claimHeaders: [ClaimHeader]
    /// Verified tokens remembered per event loop, so a signature is checked once per token; 0 turns
    /// the cache off. Default 10,000.
    public var tokenCacheEntries: Int

    public init(
        issuers: [IssuerConfig] = [IssuerConfig()],
        leeway: Duration = .seconds(30),
        requireExpiry: Bool = true,
        maxTokenLifetime: Duration? = nil,
        rolesClaim: String = "roles",
        subjectHeader: String = "X-Auth-Subject",
        scopesHeader: String = "X-Auth-Scopes",
        issuerHeader: String = "X-Auth-Issuer",
        claimHeaders: [ClaimHeader] = [],
        tokenCacheEntries: Int = 10_000
    ) {
        self.issuers = issuers
        self.leeway = leeway
        self.requireExpiry = requireExpiry
        self.maxTokenLifetime = maxTokenLifetime
        self.rolesClaim = rolesClaim
        self.subjectHeader = subjectHeader
        self.scopesHeader = scopesHeader
        self.issuerHeader = issuerHeader
        self.claimHeaders = claimHeaders
        self.tokenCacheEntries = tokenCacheEntries
    }
}

/// One token issuer: the `iss` its tokens carry, the algorithms and keys they are verified with,
/// and the audience they must name. Its HMAC secret is read from `secret_file` or the
/// `JWT_SECRET_KEY` environment variable, never from the config file.
public struct IssuerConfig: Sendable {
    /// Required `iss` claim, which also selects this issuer for a token; optional for a lone issuer.
    public var issuer: String?
    /// The `alg` values accepted; anything else is refused. Default `["HS256"]`.
    public var algorithms: [JWSAlgorithm]
    /// The HMAC secret's file, for HS algorithms (else `JWT_SECRET_KEY`).
    public var secretFile: String?
    /// A PEM public key (RSA, P-256, P-384 or Ed25519), for the other algorithms.
    public var publicKeyFile: String?
    /// A JWKS document of public keys, selected by the token's `kid`.
    public var jwksFile: String?
    /// An `https` JWKS URL, fetched and refreshed in the background.
    public var jwksURL: String?
    /// How often the JWKS URL is refetched when its answer sets no `max-age`. Default 10m.
    public var jwksRefresh: Duration
    /// How long keys fetched from the JWKS URL keep serving while it cannot be reached. Default 7d.
    public var jwksMaxStale: Duration
    /// An extra PEM trust root for the JWKS URL's certificate. Optional.
    public var jwksCAFile: String?
    /// Required `aud` claim member, if set.
    public var audience: String?
    /// Where this issuer is configured (`jwt`, `jwt.issuers[1]`), for messages.
    public var configPath: String

    public init(
        issuer: String? = nil,
        algorithms: [JWSAlgorithm] = [.hs256],
        secretFile: String? = nil,
        publicKeyFile: String? = nil,
        jwksFile: String? = nil,
        jwksURL: String? = nil,
        jwksRefresh: Duration = .seconds(600),
        jwksMaxStale: Duration = .seconds(7 * 86_400),
        jwksCAFile: String? = nil,
        audience: String? = nil,
        configPath: String = "jwt"
    ) {
        self.issuer = issuer
        self.algorithms = algorithms
        self.secretFile = secretFile
        self.publicKeyFile = publicKeyFile
        self.jwksFile = jwksFile
        self.jwksURL = jwksURL
        self.jwksRefresh = jwksRefresh
        self.jwksMaxStale = jwksMaxStale
        self.jwksCAFile = jwksCAFile
        self.audience = audience
        self.configPath = configPath
    }
}

/// A token claim forwarded upstream under a header of its own, e.g. `email=X-Auth-Email`.
public struct ClaimHeader: Sendable, Equatable {
    public var claim: String
    public var header: String

    public init(claim: String, header: String) {
        self.claim = claim
        self.header = header
    }
}

/// `[[upstream]]`: a plain-HTTP backend, served by one or more targets in turn.
public struct UpstreamConfig: Sendable {
    public var name: String
    /// Parsed from `url = "http://host:port"` or `targets = [...]`; only `http` is accepted and no
    /// path. Requests go to the healthy ones round-robin.
    public var targets: [HostPort]
    /// Default 2s.
    public var connectTimeout: Duration
    /// Time allowed for the upstream's response head once the whole request has been sent. Default 30s.
    public var responseTimeout: Duration
    /// Idle keep-alive connections kept per event loop and target. Default 32.
    public var maxIdleConnections: Int
    /// Requests in flight to this upstream at once, over all its targets (each holds one
    /// connection); more wait for a slot. Default 512.
    public var maxConnections: Int
    /// How long a request waits for a slot before it is refused with 503. Default 1s.
    public var queueTimeout: Duration
    /// How each target is probed in the background.
    public var healthCheck: HealthCheckConfig

    public init(
        name: String,
        targets: [HostPort],
        connectTimeout: Duration = .seconds(2),
        responseTimeout: Duration = .seconds(30),
        maxIdleConnections: Int = 32,
        maxConnections: Int = 512,
        queueTimeout: Duration = .seconds(1),
        healthCheck: HealthCheckConfig = HealthCheckConfig()
    ) {
        self.name = name
        self.targets = targets
        self.connectTimeout = connectTimeout
        self.responseTimeout = responseTimeout
        self.maxIdleConnections = maxIdleConnections
        self.maxConnections = maxConnections
        self.queueTimeout = queueTimeout
        self.healthCheck = healthCheck
    }
}

/// `health_check` of an `[[upstream]]`: every target is probed on its own schedule, with a TCP
/// connect, or with `GET path` (a 2xx or 3xx answer) when `path` is set.
public struct HealthCheckConfig: Sendable, Equatable {
    /// The path probed with `GET`; `nil` probes with a TCP connect only. Default `nil`.
    public var path: String?
    /// Time between two probes of a target. Default 5s.
    public var interval: Duration
    /// How long one probe may take. Default 2s.
    public var timeout: Duration
    /// Failed probes in a row that take a target out of rotation. Default 2.
    public var unhealthyAfter: Int
    /// Passed probes in a row that bring it back. Default 2.
    public var healthyAfter: Int

    public init(
        path: String? = nil, interval: Duration = .seconds(5), timeout: Duration = .seconds(2), unhealthyAfter: Int = 2,
        healthyAfter: Int = 2
    ) {
        self.path = path
        self.interval = interval
        self.timeout = timeout
        self.unhealthyAfter = unhealthyAfter
        self.healthyAfter = healthyAfter
    }
}

/// Whether a route needs a verified bearer token.
public enum AuthMode: String, Sendable, CaseIterable {
    /// A valid token is required.
    case required
    /// A token is verified when sent (a bad one is refused); without one the request passes anonymously.
    case optional
    /// Tokens are not looked at; identity headers are still stripped.
    case none
}

/// `[[route]]`: a path prefix and what to do with requests under it.
public struct RouteConfig: Sendable {
    /// Normalised prefix starting with `/`, without a trailing `/` unless it is exactly `/`.
    public var path: String
    /// Allowed methods (upper case); `nil` allows every method.
    public var methods: [String]?
    /// Name of an `[[upstream]]`.
    public var upstream: String
    /// Remove `path` from the start of the request path before forwarding. Default false.
    public var stripPrefix: Bool
    /// Default `required`: secure by default.
    public var auth: AuthMode
    /// Scopes the token must all carry (`scope` claim). Default none.
    public var scopes: [String]
    /// Roles the token must all carry (the `jwt.roles_claim` claim). Default none.
    public var roles: [String]
    /// The issuers (their `iss`) whose tokens the route accepts. Default: every configured issuer.
    public var issuers: [String]
    /// A login endpoint: its upstream 401s count towards `[login_protection]` locks. Default false.
    public var login: Bool
    /// Says that an `auth = "none"` route is meant to reach upstream paths that `auth = "required"`
    /// routes protect. Default false.
    public var isPublic: Bool
    /// The route's own rate policies, counted for it alone; `[]` turns limits off. Default: `[rate_limit] default`.
    public var rateLimit: [RatePolicyConfig]?
    /// CORS for the route: `[cors]`, with the route's own `cors` keys over it.
    public var cors: CORSConfig
    /// The networks whose clients may use the route; `nil` (the default) allows every client.
    public var allowClients: [CIDR]?
    /// Hold the whole body (up to the route's body limit, at most 1 MiB) before an upstream
    /// connection is taken, so a slow client never holds one. Default false: bodies stream.
    public var requestBuffering: Bool
    /// Input checks: content types, body size, JSON and its schema, query parameters, headers.
    public var validation: ValidationConfig

    public init(
        path: String, methods: [String]? = nil, upstream: String, stripPrefix: Bool = false, auth: AuthMode = .required,
        scopes: [String] = [], roles: [String] = [], issuers: [String] = [], login: Bool = false, isPublic: Bool = false,
        rateLimit: [RatePolicyConfig]? = nil, cors: CORSConfig = CORSConfig(), allowClients: [CIDR]? = nil,
        requestBuffering: Bool = false, validation: ValidationConfig = ValidationConfig()
    ) {
        self.path = path
        self.methods = methods
        self.upstream = upstream
        self.stripPrefix = stripPrefix
        self.auth = auth
        self.scopes = scopes
        self.roles = roles
        self.issuers = issuers
        self.login = login
        self.isPublic = isPublic
        self.rateLimit = rateLimit
        self.cors = cors
        self.allowClients = allowClients
        self.requestBuffering = requestBuffering
        self.validation = validation
    }
}

/// What the audit recorder does with an event when its queue is full.
public enum AuditOverflowPolicy: String, Sendable, CaseIterable {
    /// Count and drop the event.
    case drop
    /// Keep the event by letting the queue grow to twice its size, waking the writer at once;
    /// drop beyond that. The request path never waits.
    case block
}

/// `[store]`: where the gateway keeps its state, and how its audit trail is written and kept.
public struct StoreConfig: Sendable {
    /// The SQLite database file. Default `/var/lib/gateway/gateway.sqlite` (systemd's state directory).
    public var path: String
    /// A shared PostgreSQL store instead of the SQLite file, for several gateways.
    public var postgres: PostgresStoreConfig?
    /// How long audit events are kept before they are pruned. Default 30 days.
    public var auditRetention: Duration
    /// Default `.drop`.
    public var onAuditOverflow: AuditOverflowPolicy
    /// Audit events waiting to be written at most, before the overflow policy applies. Default 10,000.
    public var auditQueueSize: Int
    /// How often the rate limit counters are written behind (and, on PostgreSQL, merged with the
    /// other gateways'). Default 1 s on SQLite, 200 ms on PostgreSQL.
    public var syncInterval: Duration
    /// What rate-limited routes do while the store cannot be reached. Default `.keepLocal`.
    public var onStoreLoss: StoreLossPolicy

    public init(
        path: String = "/var/lib/gateway/gateway.sqlite",
        postgres: PostgresStoreConfig? = nil,
        auditRetention: Duration = .seconds(30 * 86_400),
        onAuditOverflow: AuditOverflowPolicy = .drop,
        auditQueueSize: Int = 10_000,
        syncInterval: Duration? = nil,
        onStoreLoss: StoreLossPolicy = .keepLocal
    ) {
        self.path = path
        self.postgres = postgres
        self.auditRetention = auditRetention
        self.onAuditOverflow = onAuditOverflow
        self.auditQueueSize = auditQueueSize
        self.syncInterval = syncInterval ?? (postgres == nil ? .seconds(1) : .milliseconds(200))
        self.onStoreLoss = onStoreLoss
    }
}

/// `[store] url` and its companions: a PostgreSQL database shared by several gateways.
public struct PostgresStoreConfig: Sendable {
    /// The database; never with a password in it.
    public var url: PostgresURL
    /// The file holding the password; else the systemd credential `store-password`, else `$PGPASSWORD`.
    public var passwordFile: String?
    /// Default 5 s.
    public var connectTimeout: Duration
    /// The longest one statement runs, and the longest a store call waits. Default 5 s.
    public var statementTimeout: Duration
    /// Connections open at most. Default 4.
    public var poolSize: Int

    public init(
        url: PostgresURL, passwordFile: String? = nil, connectTimeout: Duration = .seconds(5),
        statementTimeout: Duration = .seconds(5), poolSize: Int = 4
    ) {
        self.url = url
        self.passwordFile = passwordFile
        self.connectTimeout = connectTimeout
        self.statementTimeout = statementTimeout
        self.poolSize = poolSize
    }
}

/// What rate-limited routes do while the store cannot be reached (`[store] on_store_loss`).
public enum StoreLossPolicy: String, Sendable, CaseIterable {
    /// Each gateway goes on enforcing its limits alone, with its own counters: a fleet of N may
    /// then admit up to N times a limit.
    case keepLocal = "keep_local"
    /// Requests to routes with a rate limit are refused (503 `store_unavailable`) until the store answers again.
    case failClosed = "fail_closed"
}
