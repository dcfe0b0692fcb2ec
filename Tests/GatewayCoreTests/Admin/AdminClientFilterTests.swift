import NIOCore
import Testing

@testable import GatewayCore

@Suite("Admin listener clients")
struct AdminClientFilterTests {
    @Test("loopback clients are admitted, others only from allowed_clients")
    func clients() throws {
        let allowed = AdminConfig.loopback + [CIDR("10.1.0.0/16")!]
        #expect(ClientFilter.admits(try SocketAddress(ipAddress: "127.0.0.1", port: 5000), allowed: allowed))
        #expect(ClientFilter.admits(try SocketAddress(ipAddress: "::1", port: 5000), allowed: allowed))
        #expect(ClientFilter.admits(try SocketAddress(ipAddress: "10.1.2.3", port: 5000), allowed: allowed))
        #expect(!ClientFilter.admits(try SocketAddress(ipAddress: "10.2.0.1", port: 5000), allowed: allowed))
        #expect(!ClientFilter.admits(try SocketAddress(ipAddress: "192.0.2.2", port: 5000), allowed: AdminConfig.loopback))
        #expect(!ClientFilter.admits(nil, allowed: allowed))
    }

    @Test("only addresses and localhost are accepted as Host, so a rebound DNS name is refused")
    func hosts() {
        for host in ["127.0.0.1:9901", "localhost:9901", "LOCALHOST", "[::1]:9901", "10.1.2.3"] {
            #expect(ClientFilter.isDirectHost(host), "\(host)")
        }
        for host in ["evil.example:9901", "attacker.test", "[evil]:1"] {
            #expect(!ClientFilter.isDirectHost(host), "\(host)")
        }
    }
}
