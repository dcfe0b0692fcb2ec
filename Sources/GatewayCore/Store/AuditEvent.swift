import Crypto
import Foundation

/// One security decision worth keeping: a refused token, a limit hit, a config reload.
///
/// Events never carry a token or a secret; a token appears only as its ``tokenFingerprint``.
/// The store keeps ``time`` to the millisecond.
public struct AuditEvent: Sendable, Equatable {
    /// When the decision was made.
    public var time: Date
    /// The request's `X-Request-ID`, when the event concerns a request.
    public var requestID: String?
    /// The resolved client address.
    public var client: String?
    /// The path prefix of the matched route.
    public var route: String?
    public var method: String?
    /// The normalised request path.
    public var path: String?
    /// The token's subject, when known.
    public var subject: String?
    public var type: AuditEventType
    /// A short explanation that is safe to show an operator, e.g. which token check failed.
    public var reason: String?
    /// The HTTP status the gateway answered with.
    public var status: Int?
    /// ``fingerprint(ofToken:)`` of the token involved, never the token itself.
    public var tokenFingerprint: String?

    public init(
        time: Date,
        type: AuditEventType,
        requestID: String? = nil,
        client: String? = nil,
        route: String? = nil,
        method: String? = nil,
        path: String? = nil,
        subject: String? = nil,
        reason: String? = nil,
        status: Int? = nil,
        tokenFingerprint: String? = nil
    ) {
        self.time = time
        self.type = type
        self.requestID = requestID
        self.client = client
        self.route = route
        self.method = method
        self.path = path
        self.subject = subject
        self.reason = reason
        self.status = status
        self.tokenFingerprint = tokenFingerprint
    }

    /// The first 12 hexadecimal digits of the token's SHA-256: enough to match events about one
    /// token, useless for replaying it.
    public static func fingerprint(ofToken token: some StringProtocol) -> String {
        String(SHA256.hash(data: Array(token.utf8)).hexString.prefix(12))
    }
}

/// What kind of decision an ``AuditEvent`` records. The raw values are stored and queried.
public enum AuditEventType: String, Sendable, CaseIterable {
    case authMissing = "auth_missing"
    case authInvalid = "auth_invalid"
    case authExpired = "auth_expired"
    case authRevoked = "auth_revoked"
    case scopeDenied = "scope_denied"
    case rateLimited = "rate_limited"
    case corsRejected = "cors_rejected"
    /// The client's address is not in the route's `allow_clients`.
    case clientNotAllowed = "client_not_allowed"
    case badRequest = "bad_request"
    case upstreamError = "upstream_error"
    case configReloaded = "config_reloaded"
    case configRejected = "config_rejected"
    case tokenRevoked = "token_revoked"
    case loginFailed = "login_failed"
    case loginLocked = "login_locked"
    /// An operator gave a client its quotas back (`gateway limits reset`).
    case rateLimitReset = "rate_limit_reset"

    /// A decision about a client's request, as opposed to an operator's action or an upstream's failure.
    public var isSecurityEvent: Bool {
        switch self {
        case .upstreamError, .configReloaded, .configRejected, .tokenRevoked, .rateLimitReset: false
        default: true
        }
    }
}
