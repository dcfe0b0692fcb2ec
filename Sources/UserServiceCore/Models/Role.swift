import GRDB

/// What a user may do beyond managing their own resources.
enum Role: String, Codable, CaseIterable, Sendable, DatabaseValueConvertible {
    /// Every registered user.
    case user
    /// Granted with `userservice grant-admin`; may list all users.
    case admin

    /// The token scopes this role grants, space-separated in the "scope" claim.
    var scopes: [String] {
        switch self {
        case .user: ["user"]
        case .admin: ["user", "admin"]
        }
    }
}
