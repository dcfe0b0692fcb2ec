import Foundation
import JWTKit

/// Signs HS256 access tokens for users who logged in.
struct TokenIssuer: Sendable {
    /// A signed token and how many seconds it stays valid.
    struct IssuedToken: Sendable {
        let token: String
        let expiresIn: Int64
    }

    private let keys: JWTKeyCollection
    private let lifetime: Duration
    private let issuer: String?
    private let audience: String?

    init(configuration: UserServiceConfiguration) async {
        let encoder = JSONEncoder()
        // RFC 7519 NumericDate: whole seconds.
        encoder.dateEncodingStrategy = .integerSecondsSince1970
        self.keys = await JWTKeyCollection().add(
            hmac: HMACKey(from: configuration.jwtSecret),
            digestAlgorithm: .sha256,
            serializer: DefaultJWTSerializer(jsonEncoder: encoder)
        )
        self.lifetime = configuration.tokenLifetime
        self.issuer = configuration.issuer
        self.audience = configuration.audience
    }

    /// A fresh token for the user, valid from now for the configured lifetime.
    func issue(for user: User) async throws -> IssuedToken {
        let lifetimeSeconds = self.lifetime.components.seconds
        let now = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))
        let claims = AccessTokenClaims(
            subject: SubjectClaim(value: String(user.id)),
            issuedAt: IssuedAtClaim(value: now),
            expiration: ExpirationClaim(value: now.addingTimeInterval(TimeInterval(lifetimeSeconds))),
            issuer: self.issuer.map { IssuerClaim(value: $0) },
            audience: self.audience.map { AudienceClaim(value: [$0]) },
            id: IDClaim(value: UUID().uuidString),
            scope: user.role.scopes.joined(separator: " ")
        )
        return IssuedToken(token: try await self.keys.sign(claims), expiresIn: lifetimeSeconds)
    }
}
