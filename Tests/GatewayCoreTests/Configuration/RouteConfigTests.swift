import GatewayCore
import Testing

@Suite("Config [[route]]")
struct RouteConfigTests {
    /// The problems of a document whose only route is `path`, plus `extra` lines.
    private func problems(path: String, _ extra: String = "") -> [String] {
        ConfigFixture.problems("[[route]]\npath = \"\(path)\"\nupstream = \"users\"\n\(extra)")
    }

    @Test("accepts the root and ordinary prefixes", arguments: ["/", "/users", "/api/v1/users", "/a-b_c.d~e:@"])
    func acceptsPath(path: String) throws {
        let config = try ConfigFixture.config("[[route]]\npath = \"\(path)\"\nupstream = \"users\"")
        #expect(config.routes.first?.path == path)
    }

    @Test(
        "rejects paths that are not normalised prefixes",
        arguments: [
            ("users", #""users" must start with "/""#),
            ("/users/", #""/users/" must not end with "/" (allowed: "/users")"#),
            ("/a//b", #""/a//b" must not contain "//""#),
            ("/a/../b", #""/a/../b" must not contain "." or ".." segments"#),
            ("/a/./b", #""/a/./b" must not contain "." or ".." segments"#),
            ("/a/..", #""/a/.." must not contain "." or ".." segments"#),
            ("/a%2Fb", #""/a%2Fb" must not contain "%": write the path decoded"#),
            ("/a?b=1", ##""/a?b=1" must not contain "?" or "#": routes match paths only"##),
            ("/a#b", ##""/a#b" must not contain "?" or "#": routes match paths only"##),
            (
                "/a b",
                #""/a b" contains " ", which is not allowed in a path (allowed: letters, digits and - . _ ~ ! $ & ' ( ) * + , ; = : @ /)"#
            ),
        ] as [(String, String)])
    func rejectsPath(path: String, message: String) {
        #expect(problems(path: path) == ["/srv/gw.conf:2: route[0].path: \(message)"])
    }

    @Test("accepts an explicit method list")
    func methods() throws {
        let config = try ConfigFixture.config(#"[[route]]\#npath = "/users"\#nupstream = "users"\#nmethods = ["GET", "POST"]"#)
        #expect(config.routes.first?.methods == ["GET", "POST"])
    }

    @Test("rejects unknown and lower-case methods, each at the line of its element")
    func invalidMethods() {
        let problems = self.problems(
            path: "/users",
            """
            methods = [
              "GET",
              "FETCH",
              "post",
            ]
            """)
        let allowed = "(allowed: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS)"
        #expect(
            problems == [
                #"/srv/gw.conf:6: route[0].methods[1]: unknown method "FETCH" "# + allowed,
                #"/srv/gw.conf:7: route[0].methods[2]: method "post" must be upper case "# + allowed,
            ])
    }

    @Test("rejects a duplicate method")
    func duplicateMethod() {
        let problems = self.problems(path: "/users", #"methods = ["GET", "POST", "GET"]"#)
        #expect(problems == [#"/srv/gw.conf:4: route[0].methods[2]: duplicate method "GET""#])
    }

    @Test("rejects an empty method list")
    func emptyMethods() {
        let problems = self.problems(path: "/users", "methods = []")
        #expect(problems == ["/srv/gw.conf:4: route[0].methods: must not be empty; leave it out to allow every method"])
    }

    @Test("rejects an unknown auth mode")
    func invalidAuth() {
        let problems = self.problems(path: "/users", #"auth = "sometimes""#)
        #expect(problems == [#"/srv/gw.conf:4: route[0].auth: unsupported value "sometimes" (allowed: required, optional, none)"#])
    }

    @Test("reads scopes and roles, and refuses them on a route without authentication")
    func scopesAndRoles() {
        #expect(self.problems(path: "/users", #"scopes = ["read", "write"]"# + "\n" + #"roles = ["admin"]"#).isEmpty)
        #expect(
            self.problems(path: "/users", #"auth = "none""# + "\n" + #"scopes = ["read"]"#) == [
                #"/srv/gw.conf:4: route[0].auth: must not be "none" on a route that requires scopes, roles or issuers (allowed: required, optional)"#
            ])
        #expect(
            self.problems(path: "/users", #"scopes = ["read write"]"#) == [
                #"/srv/gw.conf:4: route[0].scopes[0]: "read write" is not a valid scope or role (allowed: printable ASCII without spaces)"#
            ])
    }

    @Test("rejects a route to an upstream that does not exist")
    func unknownUpstream() {
        let problems = ConfigFixture.problems("[[route]]\npath = \"/users\"\nupstream = \"accounts\"")
        #expect(problems == [#"/srv/gw.conf:3: route[0].upstream: no upstream named "accounts" (allowed: users)"#])
    }

    @Test("rejects a second route for the same path and an overlapping method")
    func overlappingRoutes() {
        let problems = ConfigFixture.problems(
            """
            [[route]]
            path = "/users"
            methods = ["GET", "POST"]
            upstream = "users"

            [[route]]
            path = "/users"
            methods = ["DELETE", "POST", "GET"]
            upstream = "users"
            """)
        #expect(problems == [#"/srv/gw.conf:7: route[1].path: "/users" is already routed by route[0] for GET, POST"#])
    }

    @Test("rejects a second route for the same path when either allows every method")
    func overlappingAllMethods() {
        let problems = ConfigFixture.problems(
            """
            [[route]]
            path = "/users"
            upstream = "users"

            [[route]]
            path = "/users"
            upstream = "users"
            """)
        #expect(problems == [#"/srv/gw.conf:6: route[1].path: "/users" is already routed by route[0] for every method"#])
    }

    @Test("rejects two routes whose paths differ only in letter case, since routing ignores it")
    func overlappingByCase() {
        let problems = ConfigFixture.problems(
            """
            [[route]]
            path = "/users"
            upstream = "users"

            [[route]]
            path = "/Users"
            upstream = "users"
            """)
        #expect(problems == [#"/srv/gw.conf:6: route[1].path: "/Users" is already routed by route[0] for every method"#])
    }

    @Test("accepts routes for the same path with disjoint methods")
    func disjointRoutes() throws {
        let config = try ConfigFixture.config(
            """
            [[route]]
            path = "/users"
            methods = ["GET"]
            upstream = "users"

            [[route]]
            path = "/users"
            methods = ["POST"]
            upstream = "users"
            auth = "none"
            public = true
            """)
        #expect(config.routes.map(\.auth) == [.required, .none])
    }
}
