import Foundation
import Hummingbird

/// The largest request body the service reads, in bytes.
let maximumBodySize = 64 * 1024

/// The encoder of every response body: ISO 8601 dates and sorted keys, so equal values give identical bytes.
func makeResponseEncoder() -> JSONEncoder {
    let encoder = JSONEncoder()
    encoder.dateEncodingStrategy = .iso8601
    encoder.outputFormatting = .sortedKeys
    return encoder
}

/// The context of every request: the framework's core storage plus the caller, once identified.
struct AppRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    /// The caller named by the gateway's identity headers; nil until ``IdentityMiddleware`` resolved one.
    var identity: Identity?

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.identity = nil
    }

    var maxUploadSize: Int { maximumBodySize }
    var responseEncoder: JSONEncoder { makeResponseEncoder() }
}

/// The context of routes that need a caller: a request only gets one when ``IdentityMiddleware`` found the user,
/// and is answered 401 otherwise.
struct AuthenticatedRequestContext: ChildRequestContext {
    var coreContext: CoreRequestContextStorage
    /// The authenticated caller.
    let identity: Identity

    init(context: AppRequestContext) throws {
        guard let identity = context.identity else { throw APIError.unauthenticated }
        self.coreContext = context.coreContext
        self.identity = identity
    }

    var maxUploadSize: Int { maximumBodySize }
    var responseEncoder: JSONEncoder { makeResponseEncoder() }
}
