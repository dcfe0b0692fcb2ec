import Foundation
import NIOHTTP1

/// Authentication for a route: reads the bearer token, verifies it and checks it is not revoked.
public struct AuthPolicy: Sendable {
    let verifier: TokenVerifier?
    let revocations: RevocationList?

    /// `verifier` is `nil` when no secret is configured; routes that need a token then answer 503.
    /// Without `revocations` (e.g. `check-config`) no token counts as revoked.
    public init(verifier: TokenVerifier?, revocations: RevocationList? = nil) {
        self.verifier = verifier
        self.revocations = revocations
    }

    /// The caller's identity for a route (`nil` when anonymous is allowed), or the problem to answer:
    /// 401 for a missing or bad token, 403 when the token lacks a scope or role the route requires.
    /// Verified tokens are kept in `cache` (the event loop's own) and not verified again until they expire.
    func authenticate(
        _ headers: HTTPHeaders, route: Route, now: Date, cache: VerifiedTokenCache? = nil
    ) throws(GatewayProblem) -> VerifiedIdentity? {
        switch route.auth {
        case .none:
            return nil
        case .optional where !headers.contains(name: "authorization") && route.scopes.isEmpty && route.roles.isEmpty:
            return nil
        case .optional, .required:
            let identity = try verify(headers, now: now, cache: cache)
            try authorize(identity, for: route)
            return identity
        }
    }

    /// The token's issuer must be one the route accepts (401: the token is not valid here), and
    /// every scope and role the route names must be on it (403, RFC 6750 `insufficient_scope`).
    private func authorize(_ identity: VerifiedIdentity, for route: Route) throws(GatewayProblem) {
        guard route.issuers.isEmpty || identity.issuer.map(route.issuers.contains) == true else {
            throw .invalidToken(.routeIssuer)
        }
        let missingScopes = route.scopes.filter { !identity.scopes.contains($0) }
        let missingRoles = route.roles.filter { !identity.roles.contains($0) }
        guard missingScopes.isEmpty, missingRoles.isEmpty else {
            throw .insufficientScope(required: route.scopes, missing: missingScopes + missingRoles.map { "role:\($0)" })
        }
    }

    private func verify(_ headers: HTTPHeaders, now: Date, cache: VerifiedTokenCache?) throws(GatewayProblem) -> VerifiedIdentity {
        guard let verifier else { throw .serviceUnavailable }
        let values = headers["authorization"]
        guard values.count == 1, let token = Self.bearerToken(values[0]) else {
            throw values.isEmpty ? .authRequired : .invalidToken(.malformedHeader)
        }
        let identity: VerifiedIdentity
        if let cached = cache?.identity(for: token, now: now, leeway: verifier.leeway) {
            identity = cached
        } else {
            do {
                identity = try verifier.verify(token, now: now)
            } catch {
                throw error == .noKeys ? .keysUnavailable : .invalidToken(error)
            }
            cache?.insert(identity, for: token, now: now)
        }
        if revocations?.isRevoked(identity) == true { throw .invalidToken(.revoked) }
        return identity
    }

    /// The token of a request's `Authorization: Bearer` header, if it has exactly one.
    static func bearerToken(_ headers: HTTPHeaders) -> Substring? {
        let values = headers["authorization"]
        return values.count == 1 ? bearerToken(values[0]) : nil
    }

    /// The token from `Bearer <token>` (scheme case-insensitive, RFC 6750 §2.1).
    static func bearerToken(_ value: String) -> Substring? {
        let parts = value.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].trimmingASCIISpaces()
        return token.isEmpty ? nil : token
    }
}

/// The route's token check in its chain: verifies the token with the runtime's ``AuthPolicy``
/// and keeps the identity on the request.
struct TokenRequirement: HeadPolicy {
    func admit(_ request: inout RequestContext, route: Route, runtime: GatewayRuntime) throws(GatewayProblem) {
        request.identity = try runtime.auth.authenticate(request.head.headers, route: route, now: request.now, cache: request.tokenCache)
    }
}
