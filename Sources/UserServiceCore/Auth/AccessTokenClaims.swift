import JWTKit

/// The claims of an access token, as the gateway will verify them.
struct AccessTokenClaims: JWTPayload {
    enum CodingKeys: String, CodingKey {
        case subject = "sub"
        case issuedAt = "iat"
        case expiration = "exp"
        case issuer = "iss"
        case audience = "aud"
        case id = "jti"
        case scope
    }

    /// The user id, as a string.
    let subject: SubjectClaim
    let issuedAt: IssuedAtClaim
    let expiration: ExpirationClaim
    let issuer: IssuerClaim?
    let audience: AudienceClaim?
    /// A random UUID, so a single token can be revoked.
    let id: IDClaim
    /// Space-separated scopes: "user", plus "admin" for admins.
    let scope: String

    func verify(using _: some JWTAlgorithm) throws {
        try self.expiration.verifyNotExpired()
    }
}
