import Foundation
import GatewayCore
import NIOHTTP1
import Testing

/// `allow_clients` through the real listener: the client is the TLS peer (127.0.0.1 here), or
/// what a configured trusted proxy says it is.
@Suite("allow_clients through the gateway")
struct ClientAllowlistIntegrationTests {
    func withGateway(trustLoopback: Bool = false, _ body: (GatewayHarness) async throws -> Void) async throws {
        try await TestUpstream.with { upstream in
            var config = GatewayHarness.config(
                upstreams: ["test": upstream.port],
                routes: [
                    RouteConfig(path: "/local", upstream: "test", auth: .none, allowClients: [CIDR("127.0.0.0/8")!]),
                    RouteConfig(path: "/office", upstream: "test", auth: .none, allowClients: [CIDR("192.0.2.0/24")!]),
                ])
            if trustLoopback { config.server.trustedProxies = [CIDR("127.0.0.1")!] }
            try await GatewayHarness.with(config, body)
        }
    }

    @Test("a client inside the list is forwarded; one outside is refused 403 client_not_allowed, audited")
    func refusesOthers() async throws {
        try await withGateway { gateway in
            #expect(try await gateway.send("/local/echo").status == .ok)
            let refused = try await gateway.send("/office/echo")
            #expect(refused.status == .forbidden)
            #expect(refused.json["code"] as? String == "client_not_allowed")
            let event = try #require(try await gateway.auditEvents().first { $0.type == .clientNotAllowed })
            #expect(event.client == "127.0.0.1")
            #expect(event.route == "/office")
            #expect(event.status == 403)
            #expect(event.reason == "client not in allow_clients")
        }
    }

    @Test("behind a trusted proxy the forwarded client address is the one checked, and a forged one is not believed otherwise")
    func trustedProxy() async throws {
        let forwarded: HTTPHeaders = ["X-Forwarded-For": "192.0.2.10"]
        try await withGateway(trustLoopback: true) { gateway in
            let office = try await gateway.send("/office/echo", headers: forwarded)
            let local = try await gateway.send("/local/echo", headers: forwarded)
            #expect(office.status == .ok)
            #expect(local.status == .forbidden)
        }
        try await withGateway { gateway in
            let forged = try await gateway.send("/office/echo", headers: forwarded)
            #expect(forged.status == .forbidden)
        }
    }
}
