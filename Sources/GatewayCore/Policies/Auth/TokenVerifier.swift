import Crypto
import Foundation
import JWTKit

/// Verifies HS256 bearer tokens synchronously, so it can run on the event loop.
///
/// JWTKit parses the compact form and decodes the claims; the HMAC check uses swift-crypto's
/// constant-time comparison. The algorithm is pinned: the token's own `alg` only has to agree.
public struct TokenVerifier: Sendable {
    /// Tokens longer than this are refused before any parsing.
    public static let maximumTokenBytes = 8 * 1024

    private let key: SymmetricKey
    private let issuer: String?
    private let audience: String?
    private let leeway: TimeInterval
    private let parser = DefaultJWTParser()

    public init(secret: [UInt8], config: JWTConfig) {
        self.key = SymmetricKey(data: secret)
        self.issuer = config.issuer
        self.audience = config.audience
        self.leeway = TimeInterval(config.leeway.components.seconds)
    }

    /// Checks the signature, then `exp`, `nbf`, `iat`, `iss`, `aud` and `sub`.
    public func verify(_ token: Substring, now: Date) throws(TokenRejection) -> VerifiedIdentity {
        guard token.utf8.count <= Self.maximumTokenBytes else { throw .tooLarge }
        let bytes = Array(token.utf8)
        let header: JWTHeader
        let claims: GatewayClaims
        let signature: Data
        do {
            (header, claims, signature) = try parser.parse(bytes, as: GatewayClaims.self)
        } catch {
            throw .malformed
        }
        guard header.alg == "HS256" else { throw .algorithm }
        guard let lastPeriod = bytes.lastIndex(of: UInt8(ascii: ".")),
            HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: bytes[..<lastPeriod], using: key)
        else { throw .signature }
        return try check(claims, now: now)
    }

    private func check(_ claims: GatewayClaims, now: Date) throws(TokenRejection) -> VerifiedIdentity {
        guard let expiry = claims.exp?.value else { throw .missingClaim("exp") }
        guard expiry.timeIntervalSince(now) > -leeway else { throw .expired }
        if let notBefore = claims.nbf?.value, notBefore.timeIntervalSince(now) > leeway { throw .notYetValid }
        if let issuedAt = claims.iat?.value, issuedAt.timeIntervalSince(now) > leeway { throw .issuedInFuture }
        if let issuer, claims.iss?.value != issuer { throw .issuer }
        if let audience, !(claims.aud?.value.contains(audience) ?? false) { throw .audience }
        guard let subject = claims.sub?.value, !subject.isEmpty else { throw .missingClaim("sub") }
        let scopes = claims.scope?.split(separator: " ").map(String.init) ?? []
        return VerifiedIdentity(
            subject: subject, scopes: scopes, expiresAt: expiry, tokenID: claims.jti?.value, issuedAt: claims.iat?.value)
    }
}

/// The registered claims the gateway reads, plus OAuth's space-separated `scope`.
struct GatewayClaims: JWTPayload {
    var sub: SubjectClaim?
    var exp: ExpirationClaim?
    var nbf: NotBeforeClaim?
    var iat: IssuedAtClaim?
    var iss: IssuerClaim?
    var aud: AudienceClaim?
    var jti: IDClaim?
    var scope: String?

    /// Claims are checked by ``TokenVerifier`` against an injected clock, not here.
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}
