import Foundation
import PostgresNIO

extension PostgresUserStore {
    private static let resourceColumns = "id, owner_id, name, content, created_at, updated_at"

    func resources(ownerID: Int64) async throws -> [Resource] {
        try await self.rows(
            """
            SELECT \(unescaped: Self.resourceColumns) FROM resources WHERE owner_id = \(ownerID)
            ORDER BY created_at DESC, id DESC
            """
        ).map(Resource.init)
    }

    func resource(id: Int64, ownerID: Int64) async throws -> Resource? {
        try await self.rows(
            "SELECT \(unescaped: Self.resourceColumns) FROM resources WHERE id = \(id) AND owner_id = \(ownerID)"
        ).map(Resource.init).first
    }

    func insertResource(_ content: ResourceContent, ownerID: Int64) async throws -> Resource {
        let now = Date()
        let rows = try await self.rows(
            """
            INSERT INTO resources (owner_id, name, content, created_at, updated_at)
            VALUES (\(ownerID), \(content.name), \(content.content), \(now), \(now))
            RETURNING \(unescaped: Self.resourceColumns)
            """
        )
        guard let resource = try rows.map(Resource.init).first else { throw UnexpectedRow(description: "the INSERT returned no row") }
        return resource
    }

    func updateResource(id: Int64, ownerID: Int64, with content: ResourceContent) async throws -> Resource? {
        try await self.rows(
            """
            UPDATE resources SET name = \(content.name), content = \(content.content), updated_at = \(Date())
            WHERE id = \(id) AND owner_id = \(ownerID)
            RETURNING \(unescaped: Self.resourceColumns)
            """
        ).map(Resource.init).first
    }

    func deleteResource(id: Int64, ownerID: Int64) async throws -> Bool {
        let rows = try await self.rows(
            "DELETE FROM resources WHERE id = \(id) AND owner_id = \(ownerID) RETURNING id"
        )
        return !rows.isEmpty
    }
}

extension Resource {
    /// A row of `SELECT id, owner_id, name, content, created_at, updated_at FROM resources`.
    fileprivate init(_ row: PostgresRow) throws {
        let (id, ownerId, name, content, createdAt, updatedAt) = try row.decode(
            (Int64, Int64, String, String, Date, Date).self
        )
        self.init(id: id, ownerId: ownerId, name: name, content: content, createdAt: createdAt, updatedAt: updatedAt)
    }
}
