import Foundation
import GRDB

/// A row of the `user` table.
///
/// It holds the password hash, so it never leaves the service: responses use ``UserResponse``.
struct User: Codable, Identifiable, Sendable {
    var id: Int64
    var username: String
    var email: String
    var passwordHash: String
    var role: Role
    var createdAt: Date
}

extension User: FetchableRecord, PersistableRecord {
    enum Columns {
        static let id = Column(CodingKeys.id)
        static let username = Column(CodingKeys.username)
        static let email = Column(CodingKeys.email)
        static let passwordHash = Column(CodingKeys.passwordHash)
        static let role = Column(CodingKeys.role)
        static let createdAt = Column(CodingKeys.createdAt)
    }
}

/// A user about to be inserted; the database assigns its id.
struct NewUser: Encodable, Sendable, PersistableRecord {
    static let databaseTableName = User.databaseTableName

    var username: String
    var email: String
    var passwordHash: String
    var role: Role
    var createdAt: Date
}
