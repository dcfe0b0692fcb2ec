import Hummingbird

/// `GET /users/me` for any caller, `GET /users` for callers with the "admin" scope.
struct UserRoutes {
    let database: any UserStore

    func addRoutes(to group: RouterGroup<AuthenticatedRequestContext>) {
        group.get("me", use: self.me)
        group.group().add(middleware: RequireScopeMiddleware(scope: "admin")).get(use: self.list)
    }

    @Sendable func me(request: Request, context: AuthenticatedRequestContext) async throws -> UserResponse {
        UserResponse(context.identity.user)
    }

    @Sendable func list(request: Request, context: AuthenticatedRequestContext) async throws -> [UserResponse] {
        try await self.database.allUsers().map(UserResponse.init)
    }
}
