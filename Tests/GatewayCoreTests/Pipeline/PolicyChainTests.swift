import Foundation
import NIOCore
import NIOHTTP1
import Testing

@testable import GatewayCore

/// The route's policy chain: compiled once, in a fixed order, run by admission; a refusal carries
/// the answer headers gathered before it, and later policies see it.
@Suite("Policy chain")
struct PolicyChainTests {
    /// A runtime whose `/full` route has every head policy, and whose `/bare` route has none of its own.
    static func runtime() throws -> GatewayRuntime {
        try HandlerFixture.runtime(
            routes: """
                [[route]]
                path = "/full"
                upstream = "users"
                allow_clients = ["192.0.2.0/24"]
                rate_limit = [{ rate = "2/minute", key = "ip" }]
                max_body = "1KiB"
                json = true
                login = true
                cors = { allowed_origins = ["https://app.example.com"] }

                [[route]]
                path = "/bare"
                upstream = "users"
                auth = "none"
                rate_limit = []
                """)
    }

    /// Admits a request as the proxy does, returning what admission decided and the context it filled in.
    static func admit(
        _ runtime: GatewayRuntime, _ uri: String, method: HTTPMethod = .GET, headers: HTTPHeaders = [:], client: String = "192.0.2.7"
    ) -> (Result<Admission, GatewayProblem>, RequestContext) {
        var fields: HTTPHeaders = ["Host": "gw.example"]
        fields.add(contentsOf: headers)
        var request = RequestContext(
            id: "r1", head: HTTPRequestHead(version: .http1_1, method: method, uri: uri, headers: fields), client: client,
            now: runtime.now())
        let result: Result<Admission, GatewayProblem>
        do {
            result = .success(try RequestAdmission.admit(&request, peer: nil, runtime: runtime))
        } catch {
            result = .failure(error)
        }
        return (result, request)
    }

    static func problem(_ result: Result<Admission, GatewayProblem>) -> GatewayProblem? {
        if case .failure(let problem) = result { problem } else { nil }
    }

    @Test("a route compiles its chain once, in order: CORS, allowlist, body size, token, rate limits, input checks")
    func order() throws {
        let runtime = try Self.runtime()
        guard case .route(let full) = runtime.routes.match(path: "/full", method: "POST"),
            case .route(let bare) = runtime.routes.match(path: "/bare", method: "GET")
        else {
            Issue.record("routes missing")
            return
        }
        #expect(
            full.headPolicies.map { "\(type(of: $0))" } == [
                "CORSPolicy", "ClientAllowlist", "BodySizeLimit", "TokenRequirement", "RateLimitPolicySet", "RequestValidation",
            ])
        #expect(full.bodyPolicies.map { "\(type(of: $0))" } == ["RequestValidation", "LoginPolicy"])
        #expect(full.heldBodyLimit == 1024)  // the smaller of max_body and a login body's limit
        #expect(bare.headPolicies.map { "\(type(of: $0))" } == ["BodySizeLimit", "RequestValidation"])
        #expect(bare.bodyPolicies.isEmpty && bare.heldBodyLimit == nil)
    }

    @Test("a client outside allow_clients is refused before its token is asked for, with the route's CORS headers")
    func allowlistBeforeToken() throws {
        let runtime = try Self.runtime()
        let (result, request) = Self.admit(runtime, "/full", headers: ["Origin": "https://app.example.com"], client: "198.51.100.1")
        let problem = try #require(Self.problem(result))
        #expect(problem.code == "client_not_allowed" && problem.status == .forbidden)
        #expect(problem.auditType == .clientNotAllowed)
        #expect(problem.headers.contains { $0.0 == "Access-Control-Allow-Origin" && $0.1 == "https://app.example.com" })
        #expect(request.route?.prefix == "/full")
        #expect(request.identity == nil)
    }

    @Test("a body declared too large is refused before the token; a missing token after the allowlist")
    func bodySizeBeforeToken() throws {
        let runtime = try Self.runtime()
        let (large, _) = Self.admit(runtime, "/full", method: .POST, headers: ["Content-Length": "5000"])
        #expect(Self.problem(large)?.code == "body_too_large")
        let (anonymous, _) = Self.admit(runtime, "/full")
        #expect(Self.problem(anonymous)?.code == "auth_required")
    }

    @Test("the rate policies after the token check count the requests it refused, and answer 429 once exhausted")
    func refusedTokensAreCounted() throws {
        let runtime = try Self.runtime()
        let codes = (0..<3).map { _ in Self.problem(Self.admit(runtime, "/full").0)?.code }
        #expect(codes == ["auth_required", "auth_required", "rate_limited"])
    }

    @Test("an admitted request carries its route, its upstream head and the decisions that let it through")
    func admitted() throws {
        let runtime = try Self.runtime()
        let (result, request) = Self.admit(runtime, "/bare/x?y=1", headers: ["Origin": "https://elsewhere.example"])
        guard case .success(.forward(let route, let upstreamHead)) = result else {
            Issue.record("not admitted: \(result)")
            return
        }
        #expect(route.prefix == "/bare" && request.route?.prefix == "/bare")
        #expect(upstreamHead.uri == "/bare/x?y=1")
        #expect(upstreamHead.headers["x-request-id"] == ["r1"])
        #expect(request.target?.query == "y=1")
        #expect(request.decisions.isEmpty)
    }
}
