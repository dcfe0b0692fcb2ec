import Hummingbird

/// The answer to a successful login: an OAuth 2-style bearer token.
struct TokenResponse: ResponseEncodable, Sendable {
    enum CodingKeys: String, CodingKey {
        case accessToken = "access_token"
        case tokenType = "token_type"
        case expiresIn = "expires_in"
    }

    let accessToken: String
    let tokenType = "Bearer"
    /// Seconds until the token expires.
    let expiresIn: Int64
}
