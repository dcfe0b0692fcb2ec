import JWTKit

/// Checks issued tokens the way a relying party would, independently of the service's own claim types.
enum TestTokens {
    /// The claims a token must carry.
    struct ExpectedClaims: JWTPayload {
        let sub: SubjectClaim
        let iat: IssuedAtClaim
        let exp: ExpirationClaim
        let iss: IssuerClaim?
        let aud: AudienceClaim?
        let jti: IDClaim
        let scope: String

        func verify(using _: some JWTAlgorithm) throws {
            try self.exp.verifyNotExpired()
        }
    }

    /// Verifies the HS256 signature with the test secret and returns the claims.
    static func verify(_ token: String) async throws -> ExpectedClaims {
        let keys = await JWTKeyCollection().add(hmac: HMACKey(from: TestService.secret), digestAlgorithm: .sha256)
        return try await keys.verify(token, as: ExpectedClaims.self)
    }
}
