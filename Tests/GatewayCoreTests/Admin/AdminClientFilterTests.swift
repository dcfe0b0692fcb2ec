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
}
