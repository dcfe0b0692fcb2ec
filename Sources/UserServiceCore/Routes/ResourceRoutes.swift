import Hummingbird

/// The caller's own resources: `GET`/`POST /resources` and `GET`/`PUT`/`DELETE /resources/{id}`.
///
/// Another user's resource answers 404 exactly like a missing one, so ids reveal nothing.
struct ResourceRoutes {
    let database: any UserStore

    func addRoutes(to group: RouterGroup<AuthenticatedRequestContext>) {
        group.get(use: self.list)
        group.post(use: self.create)
        group.get(":id", use: self.show)
        group.put(":id", use: self.replace)
        group.delete(":id", use: self.delete)
    }

    @Sendable func list(request: Request, context: AuthenticatedRequestContext) async throws -> [ResourceResponse] {
        try await self.database.resources(ownerID: context.identity.user.id).map(ResourceResponse.init)
    }

    @Sendable func create(
        request: Request,
        context: AuthenticatedRequestContext
    ) async throws -> EditedResponse<ResourceResponse> {
        let content = try await request.decodeJSONBody(as: ResourceRequest.self, context: context).validated()
        let resource = try await self.database.insertResource(content, ownerID: context.identity.user.id)
        return EditedResponse(status: .created, response: ResourceResponse(resource))
    }

    @Sendable func show(request: Request, context: AuthenticatedRequestContext) async throws -> ResourceResponse {
        let id = try Self.resourceID(context)
        guard let resource = try await self.database.resource(id: id, ownerID: context.identity.user.id) else {
            throw APIError.notFound
        }
        return ResourceResponse(resource)
    }

    @Sendable func replace(request: Request, context: AuthenticatedRequestContext) async throws -> ResourceResponse {
        let id = try Self.resourceID(context)
        let content = try await request.decodeJSONBody(as: ResourceRequest.self, context: context).validated()
        let ownerID = context.identity.user.id
        guard let resource = try await self.database.updateResource(id: id, ownerID: ownerID, with: content) else {
            throw APIError.notFound
        }
        return ResourceResponse(resource)
    }

    @Sendable func delete(request: Request, context: AuthenticatedRequestContext) async throws -> HTTPResponse.Status {
        let id = try Self.resourceID(context)
        guard try await self.database.deleteResource(id: id, ownerID: context.identity.user.id) else {
            throw APIError.notFound
        }
        return .noContent
    }

    /// The `{id}` path parameter; an id that is not a number cannot exist, hence 404.
    private static func resourceID(_ context: AuthenticatedRequestContext) throws -> Int64 {
        guard let id = context.parameters.get("id", as: Int64.self) else { throw APIError.notFound }
        return id
    }
}
