import Foundation

/// Who a verified bearer token says the caller is.
public struct VerifiedIdentity: Sendable, Equatable {
    /// The `sub` claim.
    public let subject: String
    /// The `scope` claim split on spaces.
    public let scopes: [String]
    /// The `exp` claim.
    public let expiresAt: Date
}

/// Why a bearer token was refused; `reason` is safe to show to the client.
public struct TokenRejection: Error, Equatable, Sendable {
    private enum Code: Equatable, Sendable {
        case tooLarge, malformed, algorithm, signature, expired, notYetValid, issuedInFuture, issuer, audience
        case missingClaim(String)
    }

    private let code: Code

    public var reason: String {
        switch code {
        case .tooLarge: "token too large"
        case .malformed: "malformed token"
        case .algorithm: "algorithm not allowed"
        case .signature: "signature invalid"
        case .expired: "token expired"
        case .notYetValid: "token not yet valid"
        case .issuedInFuture: "token issued in the future"
        case .issuer: "issuer not accepted"
        case .audience: "audience not accepted"
        case .missingClaim(let claim): "missing \(claim) claim"
        }
    }

    public static let tooLarge = TokenRejection(code: .tooLarge)
    public static let malformed = TokenRejection(code: .malformed)
    public static let algorithm = TokenRejection(code: .algorithm)
    public static let signature = TokenRejection(code: .signature)
    public static let expired = TokenRejection(code: .expired)
    public static let notYetValid = TokenRejection(code: .notYetValid)
    public static let issuedInFuture = TokenRejection(code: .issuedInFuture)
    public static let issuer = TokenRejection(code: .issuer)
    public static let audience = TokenRejection(code: .audience)
    public static func missingClaim(_ claim: String) -> TokenRejection { TokenRejection(code: .missingClaim(claim)) }
}
