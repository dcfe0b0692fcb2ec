import Hummingbird
import Logging
import NIOCore

/// Turns every error into the service's JSON error shape.
///
/// ``APIError``s pass through; framework errors (unknown route, oversized body) get their JSON equivalent;
/// anything else is logged and answered with a bare 500 so no internals reach the client.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch is NIOTooManyBytesError {
            throw APIError.payloadTooLarge
        } catch let error as any HTTPResponseError {
            throw APIError.framework(status: error.status)
        } catch {
            context.logger.error(
                "Unhandled error",
                metadata: [
                    "userservice.error.type": "\(String(reflecting: type(of: error)))",
                    "userservice.error": "\(error)",
                ]
            )
            throw APIError.internalError
        }
    }
}
