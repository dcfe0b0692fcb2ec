import Foundation
import Hummingbird

/// A resource as its owner sees it.
struct ResourceResponse: ResponseEncodable, Sendable {
    enum CodingKeys: String, CodingKey {
        case id, name, content
        case ownerID = "owner_id"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    let id: Int64
    let ownerID: Int64
    let name: String
    let content: String
    let createdAt: Date
    let updatedAt: Date

    init(_ resource: Resource) {
        self.id = resource.id
        self.ownerID = resource.ownerId
        self.name = resource.name
        self.content = resource.content
        self.createdAt = resource.createdAt
        self.updatedAt = resource.updatedAt
    }
}
