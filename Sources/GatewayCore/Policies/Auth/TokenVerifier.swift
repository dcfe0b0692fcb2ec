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
    private let leeway: TimeInterval
    private let parser: DefaultJWTParser

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
        guard let name = header.alg, let algorithm = JWSAlgorithm(rawValue: name), algorithms.contains(algorithm) else {
            throw .algorithm
        }
        switch keys.verify(signature, over: bytes[..<lastPeriod], algorithm: algorithm, keyID: header.kid) {
        case nil: throw .unknownKey
        case false?: throw .signature
        case true?: return try check(claims, now: now)
        }
    }

    private func check(_ claims: GatewayClaims, now: Date) throws(TokenRejection) -> VerifiedIdentity {
        let expiry = claims.exp?.value
        if expiry == nil, config.requireExpiry { throw .missingClaim("exp") }
        if let expiry, expiry.timeIntervalSince(now) <= -leeway { throw .expired }
        if let notBefore = claims.nbf?.value, notBefore.timeIntervalSince(now) > leeway { throw .notYetValid }
        if let issuedAt = claims.iat?.value, issuedAt.timeIntervalSince(now) > leeway { throw .issuedInFuture }
        if let maximum = config.maxTokenLifetime {
            guard let issuedAt = claims.iat?.value else { throw .missingClaim("iat") }
            guard let expiry, expiry.timeIntervalSince(issuedAt) <= TimeInterval(maximum.components.seconds) else {
                throw .lifetime
            }
        }
        if let issuer = config.issuer, claims.iss?.value != issuer { throw .issuer }
        if let audience = config.audience, !(claims.aud?.value.contains(audience) ?? false) { throw .audience }
        guard let subject = claims.sub?.value, !subject.isEmpty else { throw .missingClaim("sub") }
        return VerifiedIdentity(
            subject: subject, scopes: claims.scopes, roles: claims.roles, expiresAt: expiry ?? .distantFuture,
            tokenID: claims.jti?.value, issuedAt: claims.iat?.value)
    }
}
