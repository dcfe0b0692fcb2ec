import NIOCore
import NIOHTTP1

/// Held bodies: checked whole before forwarding (JSON validation and, on `login = true` routes,
/// brute-force protection: the attempt is refused while its client or username is locked, and the
/// upstream's answer is counted by ``LoginGuard``).
extension ProxyHandler {
    /// The refusal of a complete held body: it fails the route's validation, or (on a login route)
    /// names no single username or one that is locked. `nil` lets it go upstream.
    func heldBodyRefusal(_ exchange: Exchange) -> GatewayProblem? {
        guard let held = exchange.heldBody else { return nil }
        do {
            try exchange.admitted.route.validation.checkBody(held.bytes, method: exchange.clientHead.method)
        } catch {
            return error
        }
        guard let login = exchange.login else { return nil }
        let keys: LoginKeys
        do {
            keys = try login.completeBody(held.bytes, fingerprint: runtime.usernameFingerprint)
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

    /// Queues the held body and the request's end, to be written once the upstream is connected.
    func sendHeldBody(_ exchange: Exchange) {
        if let body = exchange.heldBody?.bytes, body.readableBytes > 0 {
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
