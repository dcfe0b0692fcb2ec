import Foundation
import NIOHTTP1

/// Authentication for a route: reads the bearer token and verifies it.
public struct AuthPolicy: Sendable {
    let verifier: TokenVerifier?

    /// `verifier` is `nil` when no secret is configured; routes that need a token then answer 503.
    public init(verifier: TokenVerifier?) {
        self.verifier = verifier
    }

    /// The caller's identity for a route, `nil` on routes that need none, or the problem to answer.
    public func authenticate(_ headers: HTTPHeaders, route: Route, now: Date) throws(GatewayProblem) -> VerifiedIdentity? {
        guard route.auth == .required else { return nil }
        guard let verifier else { throw .serviceUnavailable }
        let values = headers["authorization"]
        guard values.count == 1, let token = Self.bearerToken(values[0]) else {
            throw values.isEmpty ? .authRequired : .invalidToken("malformed authorization header")
        }
        do {
            return try verifier.verify(token, now: now)
        } catch {
            throw .invalidToken(error.reason)
        }
    }

    /// The token from `Bearer <token>` (scheme case-insensitive, RFC 6750 §2.1).
    static func bearerToken(_ value: String) -> Substring? {
        let parts = value.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].trimmingASCIISpaces()
        return token.isEmpty ? nil : token
    }
}
