import Foundation
import NIOHTTP1
import Testing

@testable import GatewayCore

@Suite("allow_clients")
struct ClientAllowlistTests {
    func problems(_ value: String) -> [String] {
        ConfigFixture.problems("[[route]]\npath = \"/users\"\nupstream = \"users\"\nallow_clients = \(value)")
    }

    @Test("decodes addresses and networks of both families; a route without the key allows every client")
    func decodes() throws {
        let config = try ConfigFixture.config(
            "[[route]]\npath = \"/users\"\nupstream = \"users\"\nallow_clients = [\"10.0.0.0/8\", \"::1\", \"2001:db8::/32\"]")
        #expect(config.routes[0].allowClients?.map(\.description) == ["10.0.0.0/8", "::1/128", "2001:db8::/32"])
        #expect(try ConfigFixture.config("").routes[0].allowClients == nil)
    }

    @Test(
        "refuses what is not a client network, naming the element",
        arguments: [
            (
                #"["10.0.0.0/33"]"#,
                #"/srv/gw.conf:4: route[0].allow_clients[0]: invalid client network "10.0.0.0/33" (allowed: an address or network, e.g. "10.1.0.0/16")"#
            ),
            (
                #"["0.0.0.0/0"]"#,
                #"/srv/gw.conf:4: route[0].allow_clients[0]: invalid client network "0.0.0.0/0" (allowed: an address or network, e.g. "10.1.0.0/16")"#
            ),
            (
                #"["::1", "localhost"]"#,
                #"/srv/gw.conf:4: route[0].allow_clients[1]: invalid client network "localhost" (allowed: an address or network, e.g. "10.1.0.0/16")"#
            ),
            ("[]", "/srv/gw.conf:4: route[0].allow_clients: must not be empty; leave it out to allow every client"),
        ])
    func refuses(_ value: String, _ message: String) {
        #expect(problems(value) == [message])
    }

    @Test(
        "admits a client inside a listed network (an IPv4-mapped address as its IPv4 one), refuses any other with 403 client_not_allowed, failing closed",
        arguments: [
            ("10.1.2.3", true), ("11.0.0.1", false), ("::1", true), ("::2", false), ("::ffff:10.1.2.3", true), ("unknown", false),
            ("", false),
        ])
    func admits(_ client: String, _ allowed: Bool) throws {
        let policy = ClientAllowlist(networks: [CIDR("10.0.0.0/8")!, CIDR("::1")!])
        let runtime = try PolicyChainTests.runtime()
        guard case .route(let route) = runtime.routes.match(path: "/bare", method: "GET") else { return }
        var request = RequestContext(
            id: "r", head: HTTPRequestHead(version: .http1_1, method: .GET, uri: "/bare"), client: client, now: Date())
        if allowed {
            #expect(throws: Never.self) { try policy.admit(&request, route: route, runtime: runtime) }
        } else {
            #expect(throws: GatewayProblem.clientNotAllowed) { try policy.admit(&request, route: route, runtime: runtime) }
        }
    }
}
