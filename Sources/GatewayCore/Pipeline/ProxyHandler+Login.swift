import NIOCore
import NIOHTTP1

/// Brute-force protection on `login = true` routes: the body is collected before forwarding
/// (``LoginAttempt``), the attempt is refused while its client or username is locked, and the
/// upstream's answer is counted (``LoginGuard``).
extension ProxyHandler {
    /// The complete login body's refusal: an ambiguous username, or a lock. `nil` lets it go upstream.
    func loginRefusal(_ exchange: Exchange) -> GatewayProblem? {
        guard let login = exchange.login else { return nil }
        let keys: LoginKeys
        do {
            keys = try login.completeBody(fingerprint: runtime.usernameFingerprint)
        } catch {
            return error
        }
        guard let refusal = login.admit(by: runtime.loginGuard) else { return nil }
        let busy = refusal.isFirst ? "locked" : "locked or busy"
        let reason =
            switch refusal.key {
            case .client: "client \(busy)"
            case .username: "username \(busy); " + Self.usernameNote(keys)
            }
        return .loginLocked(retryAfter: refusal.retryAfterSeconds, reason: reason, audited: refusal.isFirst)
    }

    /// Queues the collected body and the request's end, to be written once the upstream is connected.
    func sendLoginBody(_ exchange: Exchange) {
        if let body = exchange.login?.body, body.readableBytes > 0 {
            exchange.send(.body(.byteBuffer(body)))
        }
        exchange.send(.end(nil))
    }

    /// Counts the upstream's answer to a login attempt: a 401 is a failure (audited), a 2xx a success.
    func recordLoginOutcome(_ login: LoginAttempt, status: HTTPResponseStatus, requestID: String) {
        guard let keys = login.keys else { return }
        switch status.code {
        case 401:
            runtime.loginGuard.recordFailure(keys)
            audit(.loginFailed, reason: "bad credentials; " + Self.usernameNote(keys), status: 401, requestID: requestID)
        case 200..<300:
            runtime.loginGuard.recordSuccess(keys)
        default:
            break
        }
    }

    /// The username as the audit trail keeps it: only its fingerprint.
    private static func usernameNote(_ keys: LoginKeys) -> String {
        keys.username.map { "user fp \($0)" } ?? "no username"
    }
}
