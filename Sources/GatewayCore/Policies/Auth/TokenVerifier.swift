import Crypto
import Foundation
import JWTKit

/// Verifies bearer tokens synchronously, so it runs on the event loop.
///
/// JWTKit parses the compact form and decodes the claims; swift-crypto checks the signature. The
/// token's issuer is the one its `iss` names (or the lone issuer), and its `alg` must be on that
/// issuer's `algorithms`; HMAC algorithms only ever use the issuer's secret and the others only its
/// public keys, so a key can never be used as the wrong kind (key confusion) or for another issuer.
/// Header parameters that point elsewhere (`jku`, `x5u`, `jwk`, `x5c`) are ignored, never fetched.
public final class TokenVerifier: Sendable {
    /// Tokens longer than this are refused before any parsing.
    public static let maximumTokenBytes = 8 * 1024

    private let issuers: [TokenIssuer]
    private let config: JWTConfig
    let leeway: TimeInterval
    let parser: DefaultJWTParser

    /// A verifier whose issuers all sign their HMAC tokens with `secret`, under the rest of `config`.
    public convenience init(secret: [UInt8], config: JWTConfig) {
        let issuers = config.issuers.map { TokenIssuer(config: $0, keys: JWTKeys(secret: secret, publicKeys: [])) }
        self.init(issuers: issuers, config: config)
    }

    /// `keyClaims` are claims identities carry besides `claim_headers`' (rate policies key by them).
    init(issuers: [TokenIssuer], config: JWTConfig, keyClaims: [String] = []) {
        self.issuers = issuers
        self.config = config
        self.leeway = TimeInterval(config.leeway.components.seconds)
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        decoder.userInfo[GatewayClaims.rolesClaimKey] = config.rolesClaim
        decoder.userInfo[GatewayClaims.forwardedClaimsKey] = config.claimHeaders.map(\.claim) + keyClaims
        self.parser = DefaultJWTParser(jsonDecoder: decoder)
    }

    /// Selects the issuer, checks the signature, then `exp`, `nbf`, `iat`, the lifetime, `iss`, `aud` and `sub`.
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
        guard let firstPeriod = bytes.firstIndex(of: UInt8(ascii: ".")), let lastPeriod = bytes.lastIndex(of: UInt8(ascii: "."))
        else { throw .malformed }
        // A repeated member (two `alg`, two `sub`) is read one way here and perhaps another upstream.
        guard Self.isUnambiguous(bytes[..<firstPeriod]), Self.isUnambiguous(bytes[(firstPeriod + 1)..<lastPeriod]) else {
            throw .repeatedMember
        }
        // RFC 7515 §4.1.11: extensions the recipient does not understand must be refused; none are.
        guard header.fields["crit"] == nil else { throw .malformed }
        guard let issuer = issuer(of: claims) else { throw .untrustedIssuer }
        guard let name = header.alg, let algorithm = JWSAlgorithm(rawValue: name), issuer.algorithms.contains(algorithm) else {
            throw .algorithm
        }
        guard algorithm.isHMAC || issuer.keys.hasPublicKeys else { throw .noKeys }
        switch issuer.keys.verify(signature, over: bytes[..<lastPeriod], algorithm: algorithm, keyID: header.kid) {
        case nil: throw .unknownKey
        case false?: throw .signature
        case true?: return try check(claims, now: now)
        }
    }

    /// Whether a base64url-encoded segment is JSON every parser reads alike (``JSONReader/decisions``).
    static func isUnambiguous(_ segment: ArraySlice<UInt8>) -> Bool {
        guard let json = Base64URL.decode(String(decoding: segment, as: UTF8.self)) else { return false }
        return JSONReader.decisions.isUnambiguous(json)
    }

    /// The issuer that vouches for `claims`: the lone one, else the one their (unverified) `iss` names.
    /// Its keys then decide whether the claims were really signed by it.
    func issuer(of claims: GatewayClaims) -> TokenIssuer? {
        guard issuers.count > 1 else { return issuers.first }
        guard let name = claims.iss?.value else { return nil }
        return issuers.first { $0.config.issuer == name }
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
            subject: claims.sub?.value ?? "", issuer: claims.iss?.value, scopes: claims.scopes, roles: claims.roles,
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
            guard let issuer = issuer(of: claims) else { return .untrustedIssuer }
            guard let name = issuer.config.issuer else { return nil }
            return claims.iss?.value == name ? nil : .issuer
        case .audience:
            guard let issuer = issuer(of: claims) else { return .untrustedIssuer }
            guard let audience = issuer.config.audience else { return nil }
            return claims.aud?.value.contains(audience) == true ? nil : .audience
        case .subject:
            guard let subject = claims.sub?.value, !subject.isEmpty else { return .missingClaim("sub") }
            // Subject, issuer and scopes become upstream headers: refuse what could not travel as one.
            guard HeaderRules.isSafeHeaderValue(subject), claims.iss.map({ HeaderRules.isSafeHeaderValue($0.value) }) ?? true,
                claims.scopes.allSatisfy(HeaderRules.isSafeHeaderValue)
            else {
                return .malformed
            }
            return nil
        }
    }
}
