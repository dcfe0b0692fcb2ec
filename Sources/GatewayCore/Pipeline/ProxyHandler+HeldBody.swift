import NIOCore
import NIOHTTP1

/// Held bodies: read whole, up to the route's limit, and checked by its body policies
/// (``Route/bodyPolicies``) before anything is forwarded; a login attempt's outcome.
extension ProxyHandler {
    /// The refusal of a complete held body by the route's body policies; `nil` lets it go upstream.
    func heldBodyRefusal(_ body: ByteBuffer) -> GatewayProblem? {
        guard var request, let route = request.route else { return nil }
        defer { self.request = request }
        do {
            try route.checkBody(body, request: &request, runtime: runtime)
            return nil
        } catch {
            return error
        }
    }

    /// Counts the upstream's answer to a login attempt: a 401 is a failure (audited), a 2xx a success.
    func recordLoginOutcome(_ login: LoginAttempt, status: HTTPResponseStatus) {
        guard let keys = login.keys else { return }
        switch status.code {
        case 401:
            runtime.loginGuard.recordFailure(keys)
            metrics.shared.loginFailed()
            audit(.loginFailed, reason: "bad credentials; " + keys.auditNote, status: 401)
        case 200..<300:
            runtime.loginGuard.recordSuccess(keys)
        default:
            break
        }
    }
}
