/// The body of `POST /auth/login`.
struct LoginRequest: StrictJSONBody {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case username, password
    }

    let username: String
    let password: String
}
