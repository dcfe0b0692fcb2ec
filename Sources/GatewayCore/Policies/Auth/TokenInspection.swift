import Foundation

/// One check a bearer token must pass, in the order the gateway makes them: those of
/// ``TokenVerifier`` and then the revocation list's.
public enum TokenCheck: String, Sendable, CaseIterable {
    case size
    case wellFormed = "well_formed"
    case uniqueMembers = "unique_members"
    case trustedIssuer = "trusted_issuer"
    case algorithm
    case key
    case signature
    case expiry
    case notBefore = "not_before"
    case issuedAt = "issued_at"
    case lifetime
    case issuer
    case audience
    case subject
    case notRevoked = "not_revoked"
}

/// What `gateway token inspect` learns about a token under the current config: its header and
/// claims, and the outcome of every check. It never holds the token, its signature or a key.
public struct TokenInspection: Sendable {
    /// The header parameters the gateway reads; the others only by name.
    public struct Header: Sendable {
        public let algorithm: String?
        public let type: String?
        public let keyID: String?
        /// Every other parameter (`jku`, `x5u`, `jwk`, …), sorted: present but ignored.
        public let ignoredParameters: [String]
    }

    /// The claims as the verifier decoded them.
    public struct Claims: Sendable {
        public let subject: String?
        public let issuer: String?
        public let audience: [String]
        public let issuedAt: Date?
        public let notBefore: Date?
        public let expiresAt: Date?
        public let tokenID: String?
        /// `scope` split on spaces, or `scp`.
        public let scopes: [String]
        /// The claim `jwt.roles_claim` names.
        public let roles: [String]
    }

    public enum Outcome: Sendable, Equatable {
        case passed
        /// `reason` is the verifier's, as a client would see it.
        case failed(reason: String)
        /// An earlier check failed that this one needs, or what it needs is unavailable.
        case notChecked(reason: String)
    }

    public struct Result: Sendable {
        public let check: TokenCheck
        public let outcome: Outcome
    }

    /// ``AuditEvent/fingerprint(ofToken:)``: how the audit trail names this token.
    public let fingerprint: String
    public let byteCount: Int
    /// `nil` when the token does not decode.
    public let header: Header?
    public let claims: Claims?
    /// The issuer the token was checked against: the lone one, or the one its `iss` names.
    public let issuer: IssuerConfig?
    /// One per ``TokenCheck``, in order.
    public let results: [Result]
    /// Whether the gateway would accept the token now: it verifies and is not revoked.
    public let isAccepted: Bool
}
