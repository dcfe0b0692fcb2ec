import Foundation
import JWTKit

extension TokenInspection {
    /// Inspects `token` with the keys `serve` uses: each issuer's HMAC secret (its `secret_file` or
    /// `JWT_SECRET_KEY`), and the public keys of its `public_key_file` and `jwks_file`.
    /// Blocking file I/O. Throws what `serve` would refuse to start with.
    ///
    /// - Parameters:
    ///   - savedJWKS: the documents the store last saved, by JWKS URL, whose keys join the issuers'
    ///     others; inspecting never fetches them.
    ///   - revocations: the store's; `nil` without a store, and the revocation check is then not made.
    public init(
        token: Substring, config: JWTConfig, environment: [String: String], savedJWKS: [String: Data] = [:],
        revocations: [Revocation]?, now: Date
    ) throws(StartupError) {
        let issuers = try TokenIssuer.load(config, environment: environment, savedJWKS: savedJWKS, requireSecrets: false)
        self.init(token: token, verifier: TokenVerifier(issuers: issuers, config: config), revocations: revocations, now: now)
    }

    /// The verdict is `verifier.verify`'s own. Its first failure names the failing step of the
    /// signature stage; the claims are then put to each of the verifier's claim rules in turn.
    init(token: Substring, verifier: TokenVerifier, revocations: [Revocation]?, now: Date) {
        let decoded = try? verifier.parser.parse(Array(token.utf8), as: GatewayClaims.self)
        var rejection: TokenRejection?
        do {
            _ = try verifier.verify(token, now: now)
        } catch {
            rejection = error
        }
        let algorithm = decoded?.header.alg.flatMap(JWSAlgorithm.init(rawValue:))
        let issuer = decoded.flatMap { verifier.issuer(of: $0.payload) }
        let missingSecret = algorithm?.isHMAC == true && issuer?.keys.secret == nil ? issuer?.config : nil
        let revocation = Self.revocationOutcome(decoded?.payload, revocations)
        fingerprint = AuditEvent.fingerprint(ofToken: token)
        byteCount = token.utf8.count
        header = decoded.map { Header($0.header) }
        claims = decoded.map { Claims($0.payload) }
        self.issuer = issuer?.config
        results =
            Self.signatureResults(rejection, missingSecret: missingSecret)
            + Self.claimResults(decoded?.payload, verifier: verifier, now: now)
            + [Result(check: .notRevoked, outcome: revocation)]
        isAccepted = rejection == nil && revocation != .failed(reason: TokenRejection.revoked.reason)
    }

    /// The checks up to the signature, in ``TokenVerifier/verify(_:now:)``'s order: those before
    /// the one `rejection` names passed, those after it were not made.
    /// `missingSecret` is the issuer whose HMAC secret is not configured, if the token needs it.
    private static func signatureResults(_ rejection: TokenRejection?, missingSecret: IssuerConfig?) -> [Result] {
        let stages: [TokenCheck] = [.size, .wellFormed, .uniqueMembers, .trustedIssuer, .algorithm, .key, .signature]
        let failing = rejection.flatMap(stage(failing:))
        let failingIndex = failing.flatMap(stages.firstIndex) ?? stages.endIndex
        return stages.enumerated().map { index, check in
            if index < failingIndex { return Result(check: check, outcome: .passed) }
            if index > failingIndex { return Result(check: check, outcome: .notChecked(reason: "not checked: needs the checks above")) }
            let reason = rejection?.reason ?? ""
            let hint =
                check == .signature
                ? missingSecret.map { " (no HMAC secret: set \($0.configPath).secret_file or \(JWTSecret.environmentVariable))" } ?? ""
                : ""
            return Result(check: check, outcome: .failed(reason: reason + hint))
        }
    }

    /// The step of the signature stage that refuses with `rejection`; `nil` for a claim's refusal.
    private static func stage(failing rejection: TokenRejection) -> TokenCheck? {
        switch rejection {
        case .tooLarge: .size
        case .malformed: .wellFormed
        case .repeatedMember: .uniqueMembers
        case .untrustedIssuer: .trustedIssuer
        case .algorithm: .algorithm
        case .unknownKey, .noKeys: .key
        case .signature: .signature
        default: nil
        }
    }

    private static func claimResults(_ claims: GatewayClaims?, verifier: TokenVerifier, now: Date) -> [Result] {
        TokenVerifier.ClaimRule.allCases.map { rule in
            let outcome: Outcome
            if let claims {
                outcome = verifier.refusal(of: claims, by: rule, now: now).map { .failed(reason: $0.reason) } ?? .passed
            } else {
                outcome = .notChecked(reason: "not checked: the token does not decode")
            }
            return Result(check: check(for: rule), outcome: outcome)
        }
    }

    private static func check(for rule: TokenVerifier.ClaimRule) -> TokenCheck {
        switch rule {
        case .expiry: .expiry
        case .notBefore: .notBefore
        case .issuedAt: .issuedAt
        case .lifetime: .lifetime
        case .issuer: .issuer
        case .audience: .audience
        case .subject: .subject
        }
    }

    /// Whether the revocations cover the token, as ``RevocationList`` decides for a running gateway.
    private static func revocationOutcome(_ claims: GatewayClaims?, _ revocations: [Revocation]?) -> Outcome {
        guard let claims else { return .notChecked(reason: "not checked: the token does not decode") }
        guard let revocations else { return .notChecked(reason: "store not found, revocation not checked") }
        let revoked = RevokedTokens(revocations).covers(TokenVerifier.identity(claims))
        return revoked ? .failed(reason: TokenRejection.revoked.reason) : .passed
    }
}

extension TokenInspection.Header {
    init(_ header: JWTHeader) {
        let read: Set = ["alg", "typ", "kid"]
        algorithm = header.alg
        type = header.typ
        keyID = header.kid
        ignoredParameters = header.fields.keys.filter { !read.contains($0) }.sorted()
    }
}

extension TokenInspection.Claims {
    init(_ claims: GatewayClaims) {
        subject = claims.sub?.value
        issuer = claims.iss?.value
        audience = claims.aud?.value ?? []
        issuedAt = claims.iat?.value
        notBefore = claims.nbf?.value
        expiresAt = claims.exp?.value
        tokenID = claims.jti?.value
        scopes = claims.scopes
        roles = claims.roles
    }
}
