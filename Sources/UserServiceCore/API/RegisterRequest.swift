/// The body of `POST /auth/register`.
struct RegisterRequest: StrictJSONBody {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case username, email, password
    }

    let username: String
    let email: String
    let password: String

    /// Throws ``APIError/validationFailed(_:)`` naming each invalid field.
    func validate() throws {
        try FieldRules.enforce([
            "username": FieldRules.username(self.username),
            "email": FieldRules.email(self.email),
            "password": FieldRules.password(self.password),
        ])
    }
}
