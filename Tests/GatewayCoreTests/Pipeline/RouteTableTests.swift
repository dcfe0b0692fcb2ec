import Testing

@testable import GatewayCore

@Suite("Route table")
struct RouteTableTests {
    let table = RouteTable([
        RouteConfig(path: "/", upstream: "fallback", auth: .none),
        RouteConfig(path: "/api", upstream: "api"),
        RouteConfig(path: "/api/public", methods: ["GET", "HEAD"], upstream: "api", auth: .none),
        RouteConfig(path: "/auth", methods: ["POST"], upstream: "users", auth: .none),
        RouteConfig(path: "/v1", upstream: "v1", stripPrefix: true),
    ])

    func upstream(_ path: String, _ method: String = "GET") -> String? {
        if case .route(let route) = table.match(path: path, method: method) { return route.upstream }
        return nil
    }

    @Test("the longest matching prefix wins")
    func longestPrefix() {
        #expect(upstream("/api/public/x") == "api")
        #expect(table.match(path: "/api/public/x", method: "GET").route?.auth == AuthMode.none)
        #expect(table.match(path: "/api/private", method: "GET").route?.auth == .required)
    }

    @Test("prefixes match on segment boundaries only")
    func segmentBoundary() {
        #expect(table.match(path: "/apiary", method: "GET").route?.prefix == "/")
        #expect(table.match(path: "/api", method: "GET").route?.prefix == "/api")
        #expect(table.match(path: "/api/", method: "GET").route?.prefix == "/api")
    }

    @Test("letter case cannot steer a request past a stricter route to a case-insensitive backend")
    func ignoresCase() throws {
        #expect(table.match(path: "/API/private", method: "GET").route?.auth == .required)
        #expect(table.match(path: "/Api/Public/x", method: "GET").route?.prefix == "/api/public")
        #expect(table.match(path: "/APIARY", method: "GET").route?.prefix == "/")
        let route = try #require(table.match(path: "/V1/Users", method: "GET").route)
        #expect(route.upstreamPath(for: "/V1/Users") == "/Users")
    }

    @Test("a method the route does not allow is 405 with Allow")
    func methodNotAllowed() {
        guard case .methodNotAllowed(let allow) = table.match(path: "/auth/login", method: "GET") else {
            Issue.record("expected 405")
            return
        }
        #expect(allow == ["POST"])
    }

    @Test("no route is 404")
    func notFound() {
        let table = RouteTable([RouteConfig(path: "/only", upstream: "u")])
        guard case .notFound = table.match(path: "/other", method: "GET") else {
            Issue.record("expected 404")
            return
        }
    }

    @Test("strip_prefix removes the route's prefix before forwarding")
    func stripPrefix() throws {
        let route = try #require(table.match(path: "/v1/users/me", method: "GET").route)
        #expect(route.upstreamPath(for: "/v1/users/me") == "/users/me")
        #expect(route.upstreamPath(for: "/v1") == "/")
        let kept = try #require(table.match(path: "/api/x", method: "GET").route)
        #expect(kept.upstreamPath(for: "/api/x") == "/api/x")
    }
}

extension RouteTable.Match {
    var route: Route? {
        if case .route(let route) = self { return route }
        return nil
    }
}
