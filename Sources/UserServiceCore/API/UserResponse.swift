import Foundation
import Hummingbird

/// A user as clients see it: never the password hash.
struct UserResponse: ResponseEncodable, Sendable {
    enum CodingKeys: String, CodingKey {
        case id, username, email, role
        case createdAt = "created_at"
    }

    let id: Int64
    let username: String
    let email: String
    let role: Role
    let createdAt: Date

    init(_ user: User) {
        self.id = user.id
        self.username = user.username
        self.email = user.email
        self.role = user.role
        self.createdAt = user.createdAt
    }
}
