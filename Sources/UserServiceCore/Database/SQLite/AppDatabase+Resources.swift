import Foundation
import GRDB

extension AppDatabase {
    func resources(ownerID: Int64) async throws -> [Resource] {
        try await self.dbWriter.read { db in
            try Resource.filter { $0.ownerId == ownerID }
                .order { [$0.createdAt.desc, $0.id.desc] }
                .fetchAll(db)
        }
    }

    func resource(id: Int64, ownerID: Int64) async throws -> Resource? {
        try await self.dbWriter.read { db in
            try Resource.owned(by: ownerID, id: id).fetchOne(db)
        }
    }

    func insertResource(_ content: ResourceContent, ownerID: Int64) async throws -> Resource {
        let now = Date()
        let newResource = NewResource(
            ownerId: ownerID,
            name: content.name,
            content: content.content,
            createdAt: now,
            updatedAt: now
        )
        return try await self.dbWriter.write { db in
            try newResource.insertAndFetch(db, as: Resource.self)
        }
    }

    func updateResource(id: Int64, ownerID: Int64, with content: ResourceContent) async throws -> Resource? {
        let now = Date()
        return try await self.dbWriter.write { db in
            guard var resource = try Resource.owned(by: ownerID, id: id).fetchOne(db) else { return nil }
            resource.name = content.name
            resource.content = content.content
            resource.updatedAt = now
            try resource.update(db)
            return resource
        }
    }

    func deleteResource(id: Int64, ownerID: Int64) async throws -> Bool {
        try await self.dbWriter.write { db in
            try Resource.owned(by: ownerID, id: id).deleteAll(db) > 0
        }
    }
}

extension Resource {
    /// The request for one resource, restricted to its owner.
    fileprivate static func owned(by ownerID: Int64, id: Int64) -> QueryInterfaceRequest<Resource> {
        Resource.filter { $0.id == id && $0.ownerId == ownerID }
    }
}
