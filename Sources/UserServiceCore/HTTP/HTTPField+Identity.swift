import HTTPTypes

extension HTTPField.Name {
    /// The verified user id, set by the gateway after it checked the caller's JWT.
    static var authSubject: Self { Self("X-Auth-Subject")! }
    /// The verified token's scopes, space-separated, set by the gateway.
    static var authScopes: Self { Self("X-Auth-Scopes")! }
}
