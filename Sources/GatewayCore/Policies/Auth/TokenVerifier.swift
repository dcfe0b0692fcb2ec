import Crypto
import Foundation
import JWTKit

/// Verifies bearer tokens synchronously, so it runs on the event loop.
///
/// JWTKit parses the compact form and decodes the claims; swift-crypto checks the signature. The
/// token's `alg` must be on `jwt.algorithms`; HMAC algorithms only ever use the secret and the
/// others only the public keys, so a key can never be used as the wrong kind (key confusion).
/// Header parameters that point elsewhere (`jku`, `x5u`, `jwk`, `x5c`) are ignored, never fetched.
public struct TokenVerifier: Sendable {
    /// Tokens longer than this are refused before any parsing.
    public static let maximumTokenBytes = 8 * 1024

    private let keys: JWTKeys
    private let algorithms: Set<JWSAlgorithm>
    private let config: JWTConfig
    let leeway: TimeInterval
    let parser: DefaultJWTParser

    /// A verifier for HS256 tokens signed with `secret`, under the rest of `config`.
    public init(secret: [UInt8], config: JWTConfig) {
        self.init(keys: JWTKeys(secret: secret, publicKeys: []), config: config)
    }

    init(keys: JWTKeys, config: JWTConfig) {
        self.keys = keys
        self.algorithms = Set(config.algorithms)
        self.config = config
        self.leeway = TimeInterval(config.leeway.components.seconds)
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        decoder.userInfo[GatewayClaims.rolesClaimKey] = config.rolesClaim
        decoder.userInfo[GatewayClaims.forwardedClaimsKey] = config.claimHeaders.map(\.claim)
        self.parser = DefaultJWTParser(jsonDecoder: decoder)
    }

    /// Checks the signature, then `exp`, `nbf`, `iat`, the lifetime, `iss`, `aud` and `sub`.
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
        guard let firstPeriod = bytes.firstIndex(of: UInt8(ascii: ".")),
            let lastPeriod = bytes.lastIndex(of: UInt8(ascii: ".")),
            !JSONKeys.hasDuplicateTopLevelKeys(base64URL: bytes[..<firstPeriod])
        else { throw .malformed }
        // RFC 7515 §4.1.11: extensions the recipient does not understand must be refused; none are.
        guard header.fields["crit"] == nil else { throw .malformed }
        guard let name = header.alg, let algorithm = JWSAlgorithm(rawValue: name), algorithms.contains(algorithm) else {
            throw .algorithm
        }
        guard algorithm.isHMAC || keys.hasPublicKeys else { throw .noKeys }
        switch keys.verify(signature, over: bytes[..<lastPeriod], algorithm: algorithm, keyID: header.kid) {
        case nil: throw .unknownKey
        case false?: throw .signature
        case true?: return try check(claims, now: now)
        }
    }

    private func check(_ claims: GatewayClaims, now: Date) throws(TokenRejection) -> VerifiedIdentity {
        for rule in ClaimRule.allCases {
            if let rejection = refusal(of: claims, by: rule, now: now) { throw rejection }
        }
        return Self.identity(claims)
    }

    /// Who `claims` say the caller is; the subject is empty when they name none, which ``check`` refuses.
    static func identity(_ claims: GatewayClaims) -> VerifiedIdentity {
        VerifiedIdentity(
            subject: claims.sub?.value ?? "", scopes: claims.scopes, roles: claims.roles,
            expiresAt: claims.exp?.value ?? .distantFuture, tokenID: claims.jti?.value, issuedAt: claims.iat?.value,
            claims: claims.forwarded)
    }

    /// The claim checks, in the order ``verify(_:now:)`` applies them after the signature.
    enum ClaimRule: CaseIterable {
        case expiry, notBefore, issuedAt, lifetime, issuer, audience, subject
    }

    /// Why `claims` fail `rule` at `now`, or `nil` when they pass it; `token inspect` asks about each.
    func refusal(of claims: GatewayClaims, by rule: ClaimRule, now: Date) -> TokenRejection? {
        switch rule {
        case .expiry:
            guard let expiry = claims.exp?.value else { return config.requireExpiry ? .missingClaim("exp") : nil }
            return expiry.timeIntervalSince(now) <= -leeway ? .expired : nil
        case .notBefore:
            guard let notBefore = claims.nbf?.value else { return nil }
            return notBefore.timeIntervalSince(now) > leeway ? .notYetValid : nil
        case .issuedAt:
            guard let issuedAt = claims.iat?.value else { return nil }
            return issuedAt.timeIntervalSince(now) > leeway ? .issuedInFuture : nil
        case .lifetime:
            guard let maximum = config.maxTokenLifetime else { return nil }
            guard let issuedAt = claims.iat?.value else { return .missingClaim("iat") }
            guard let expiry = claims.exp?.value, expiry.timeIntervalSince(issuedAt) <= TimeInterval(maximum.components.seconds)
            else { return .lifetime }
            return nil
        case .issuer:
            guard let issuer = config.issuer else { return nil }
            return claims.iss?.value == issuer ? nil : .issuer
        case .audience:
            guard let audience = config.audience else { return nil }
            return claims.aud?.value.contains(audience) == true ? nil : .audience
        case .subject:
            guard let subject = claims.sub?.value, !subject.isEmpty else { return .missingClaim("sub") }
            // Subject and scopes become upstream headers: refuse what could not travel as one.
            guard HeaderRules.isSafeHeaderValue(subject), claims.scopes.allSatisfy(HeaderRules.isSafeHeaderValue) else {
                return .malformed
            }
            return nil
        }
    }
}
