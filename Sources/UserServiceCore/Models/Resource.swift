import Foundation
import GRDB

/// A row of the `resource` table: a named piece of content that belongs to one user.
struct Resource: Codable, Identifiable, Sendable {
    var id: Int64
    var ownerId: Int64
    var name: String
    var content: String
    var createdAt: Date
    var updatedAt: Date
}

extension Resource: FetchableRecord, PersistableRecord {
    enum Columns {
        static let id = Column(CodingKeys.id)
        static let ownerId = Column(CodingKeys.ownerId)
        static let name = Column(CodingKeys.name)
        static let content = Column(CodingKeys.content)
        static let createdAt = Column(CodingKeys.createdAt)
        static let updatedAt = Column(CodingKeys.updatedAt)
    }
}

/// A resource about to be inserted; the database assigns its id.
struct NewResource: Encodable, Sendable, PersistableRecord {
    static let databaseTableName = Resource.databaseTableName

    var ownerId: Int64
    var name: String
    var content: String
    var createdAt: Date
    var updatedAt: Date
}
