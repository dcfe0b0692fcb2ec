import Hummingbird

/// Authorisation: lets a request through only when the caller's token carried `scope`; 403 otherwise.
struct RequireScopeMiddleware: RouterMiddleware {
    let scope: String

    func handle(
        _ request: Request,
        context: AuthenticatedRequestContext,
        next: (Request, AuthenticatedRequestContext) async throws -> Response
    ) async throws -> Response {
        guard context.identity.scopes.contains(self.scope) else { throw APIError.forbidden }
        return try await next(request, context)
    }
}
