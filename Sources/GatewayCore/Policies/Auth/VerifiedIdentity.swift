import Foundation

/// Who a verified bearer token says the caller is.
public struct VerifiedIdentity: Sendable, Equatable {
    /// The `sub` claim.
    public let subject: String
    /// The `iss` claim, when the token has one.
    public let issuer: String?
    /// The `scope` claim split on spaces, or the `scp` array.
    public let scopes: [String]
    /// The roles claim (`jwt.roles_claim`).
    public let roles: [String]
    /// The `exp` claim; `distantFuture` when tokens without one are allowed and this has none.
    public let expiresAt: Date
    /// The `jti` claim, when the token has one.
    public let tokenID: String?
    /// The `iat` claim, when the token has one.
    public let issuedAt: Date?
    /// The claims named in `jwt.claim_headers` or by a rate policy's key that the token carries, as text.
    public let claims: [String: String]

    public init(
        subject: String, issuer: String? = nil, scopes: [String], roles: [String] = [], expiresAt: Date, tokenID: String? = nil,
        issuedAt: Date? = nil, claims: [String: String] = [:]
    ) {
        self.subject = subject
        self.issuer = issuer
        self.scopes = scopes
        self.roles = roles
        self.expiresAt = expiresAt
        self.tokenID = tokenID
        self.issuedAt = issuedAt
        self.claims = claims
    }
}

/// Why a bearer token was refused; `reason` is safe to show to the client.
public struct TokenRejection: Error, Equatable, Sendable {
    private enum Code: Equatable, Sendable {
        case tooLarge, malformed, repeatedMember, malformedHeader, untrustedIssuer, algorithm, signature, expired, notYetValid,
            issuedInFuture
        case issuer, audience, revoked, lifetime, unknownKey, noKeys, routeIssuer
        case missingClaim(String)
    }

    private let code: Code

    public var reason: String {
        switch code {
        case .tooLarge: "token too large"
        case .malformed: "malformed token"
        case .repeatedMember: "repeated member name in the token's header or claims"
        case .malformedHeader: "malformed authorization header"
        case .untrustedIssuer: "issuer not trusted"
        case .algorithm: "algorithm not allowed"
        case .signature: "signature invalid"
        case .expired: "token expired"
        case .notYetValid: "token not yet valid"
        case .issuedInFuture: "token issued in the future"
        case .issuer: "issuer not accepted"
        case .audience: "audience not accepted"
        case .revoked: "token revoked"
        case .lifetime: "token lifetime too long"
        case .unknownKey: "unknown key id"
        case .noKeys: "no verification keys available"
        case .routeIssuer: "issuer not accepted on this route"
        case .missingClaim(let claim): "missing \(claim) claim"
        }
    }

    public static let tooLarge = TokenRejection(code: .tooLarge)
    public static let malformed = TokenRejection(code: .malformed)
    /// The header or the claims name a member twice, which JSON parsers resolve differently.
    public static let repeatedMember = TokenRejection(code: .repeatedMember)
    public static let malformedHeader = TokenRejection(code: .malformedHeader)
    /// With several issuers: the token's `iss` names none of them.
    public static let untrustedIssuer = TokenRejection(code: .untrustedIssuer)
    public static let algorithm = TokenRejection(code: .algorithm)
    public static let signature = TokenRejection(code: .signature)
    public static let expired = TokenRejection(code: .expired)
    public static let notYetValid = TokenRejection(code: .notYetValid)
    public static let issuedInFuture = TokenRejection(code: .issuedInFuture)
    public static let issuer = TokenRejection(code: .issuer)
    public static let audience = TokenRejection(code: .audience)
    public static let revoked = TokenRejection(code: .revoked)
    public static let lifetime = TokenRejection(code: .lifetime)
    public static let unknownKey = TokenRejection(code: .unknownKey)
    /// Not the token's fault: no public key is available yet (answered with 503, not 401).
    public static let noKeys = TokenRejection(code: .noKeys)
    /// The token verifies, but its issuer is not among the route's `issuers`.
    public static let routeIssuer = TokenRejection(code: .routeIssuer)
    public static func missingClaim(_ claim: String) -> TokenRejection { TokenRejection(code: .missingClaim(claim)) }

    /// How the audit trail files this refusal.
    var auditType: AuditEventType {
        switch code {
        case .expired: .authExpired
        case .revoked: .authRevoked
        default: .authInvalid
        }
    }
}
