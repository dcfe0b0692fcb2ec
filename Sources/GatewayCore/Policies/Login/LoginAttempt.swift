import Foundation
import NIOCore

/// A request on a `login = true` route. Its body is held whole (``HeldBody``, at most
/// ``maximumBodyBytes``) before anything is forwarded, so that an attempt for a locked username
/// never reaches the upstream. Owned by one ``Exchange`` and confined to its event loop.
final class LoginAttempt {
    /// Largest login body accepted (413 beyond): a username and a password need far less.
    static let maximumBodyBytes = 8 * 1024

    /// The resolved client address.
    let clientAddress: String
    /// What the attempt counts against, once the body is complete.
    private(set) var keys: LoginKeys?
    /// The guard that counts this attempt in flight, once admitted; told when the attempt is gone.
    private var admittedBy: LoginGuard?

    init(clientAddress: String) {
        self.clientAddress = clientAddress
    }

    /// However the exchange ends (answered, failed, abandoned), the attempt stops counting in flight.
    deinit {
        if let admittedBy, let keys { admittedBy.finish(keys) }
    }

    /// Asks `guard` to admit the attempt (body complete); the refusal, or `nil` once it counts in flight.
    func admit(by loginGuard: LoginGuard) -> LoginGuard.Refusal? {
        guard let keys else { return nil }
        let refusal = loginGuard.admit(keys)
        if refusal == nil { admittedBy = loginGuard }
        return refusal
    }

    /// The body is complete: finds its username and returns the keys the attempt counts against.
    func completeBody(_ body: ByteBuffer, fingerprint: UsernameFingerprint) throws(GatewayProblem) -> LoginKeys {
        let keys = LoginKeys(
            clientAddress: clientAddress, username: try LoginBody.username(in: Data(body.readableBytesView)),
            fingerprint: fingerprint)
        self.keys = keys
        return keys
    }
}

/// A `login = true` route's check of the held body: the attempt is refused while its client or
/// username is locked, and otherwise kept on the request so that the upstream's answer counts.
struct LoginPolicy: BodyPolicy {
    var heldBodyLimit: Int { LoginAttempt.maximumBodyBytes }

    func check(_ body: ByteBuffer, request: inout RequestContext, route: Route, runtime: GatewayRuntime) throws(GatewayProblem) {
        let attempt = LoginAttempt(clientAddress: request.client)
        let keys = try attempt.completeBody(body, fingerprint: runtime.usernameFingerprint)
        if let refusal = attempt.admit(by: runtime.loginGuard) {
            let busy = refusal.isFirst ? "locked" : "locked or busy"
            let reason =
                switch refusal.key {
                case .client: "client \(busy)"
                case .username: "username \(busy); " + keys.auditNote
                }
            throw .loginLocked(retryAfter: refusal.retryAfterSeconds, reason: reason, audited: refusal.isFirst)
        }
        request.login = attempt
    }
}

extension LoginKeys {
    /// The username as the audit trail keeps it: only its fingerprint.
    var auditNote: String { username.map { "user fp \($0)" } ?? "no username" }
}

/// Reads the username out of a JSON login body, failing closed: a body the gateway cannot read a
/// username from is refused rather than forwarded, since the username lock could not apply to it.
enum LoginBody {
    static let ambiguous = GatewayProblem.badRequest(
        "ambiguous_login", "The login body names its username more than once.")
    static let unreadable = GatewayProblem.badRequest(
        "bad_login_body", "A login body must be a JSON object with a \"username\" string.")

    /// The one string member named `username` (in any letter case) of a top-level JSON object.
    ///
    /// JSON parsers and frameworks disagree on repeated members and on letter case (Foundation's
    /// `JSONDecoder` takes the first of two, `JSONSerialization` the last; some frameworks bind
    /// `UserName` to `username`), so a body with a repeated member name anywhere, or with more than
    /// one candidate, is refused: otherwise the lock would count one name while the upstream checks
    /// the password of another.
    static func username(in json: Data) throws(GatewayProblem) -> String {
        let object: JSONValue
        do {
            object = try JSONReader.decisions.read(json)
        } catch {
            throw error.message.hasPrefix(JSONSyntaxError.repeatedMemberMessage) ? ambiguous : unreadable
        }
        guard case .object(let members) = object else { throw unreadable }
        let candidates = members.filter { $0.name.lowercased() == "username" }
        guard candidates.count <= 1 else { throw ambiguous }
        guard case .string(let name)? = candidates.first?.value, !name.isEmpty else { throw unreadable }
        return name
    }
}
