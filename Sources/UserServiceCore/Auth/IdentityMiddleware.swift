import HTTPTypes
import Hummingbird
import Logging

/// Authentication: finds the user the gateway named in `X-Auth-Subject` and records it in the context.
///
/// It refuses nothing itself; routes that need a caller run in ``AuthenticatedRequestContext``,
/// which answers 401 when no user was found.
struct IdentityMiddleware: RouterMiddleware {
    let database: any UserStore

    func handle(
        _ request: Request,
        context: AppRequestContext,
        next: (Request, AppRequestContext) async throws -> Response
    ) async throws -> Response {
        var context = context
        if let subject = request.headers[.authSubject], let userID = Int64(subject),
            let user = try await self.database.user(id: userID)
        {
            context.identity = Identity(user: user, scopeHeader: request.headers[.authScopes])
            context.logger[metadataKey: "userservice.user_id"] = "\(userID)"
        }
        return try await next(request, context)
    }
}
