/// Who is calling, as vouched for by the gateway: the user named by `X-Auth-Subject`
/// and the scopes listed in `X-Auth-Scopes`.
struct Identity: Sendable {
    let user: User
    let scopes: Set<String>

    /// Reads a space-separated scope list, as in the JWT "scope" claim.
    init(user: User, scopeHeader: String?) {
        self.user = user
        self.scopes = Set((scopeHeader ?? "").split(separator: " ").map(String.init))
    }
}
