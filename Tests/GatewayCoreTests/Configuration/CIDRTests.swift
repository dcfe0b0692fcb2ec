import GatewayCore
import NIOCore
import Testing

@Suite("CIDR")
struct CIDRTests {
    private func address(_ ip: String) throws -> SocketAddress {
        try SocketAddress(ipAddress: ip, port: 443)
    }

    @Test(
        "parses networks and bare addresses into canonical form",
        arguments: [
            ("10.0.0.0/8", "10.0.0.0/8"),
            ("10.1.2.3/8", "10.0.0.0/8"),
            ("192.0.2.7", "192.0.2.7/32"),
            ("0.0.0.0/0", "0.0.0.0/0"),
            ("fd00::/8", "fd00::/8"),
            ("2001:db8::1/32", "2001:db8::/32"),
            ("::1", "::1/128"),
            ("::/0", "::/0"),
        ] as [(String, String)])
    func parses(text: String, canonical: String) throws {
        let cidr = try #require(CIDR(text))
        #expect(cidr.description == canonical)
    }

    @Test(
        "refuses what is not an address with a valid prefix",
        arguments: [
            "", "10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0/8", "10.0.0.0/8/8", "10.0.0.0/-1", "10.0.0.0/ 8",
            "256.0.0.0/8", "example.com/8", "fe80::1%eth0", " 10.0.0.1", "10.0.0.1 ", "10.0.0.0/0008",
        ])
    func refuses(text: String) {
        #expect(CIDR(text) == nil)
    }

    @Test("contains IPv4 peers in its range only")
    func containsIPv4() throws {
        let cidr = try #require(CIDR("10.0.0.0/8"))
        #expect(cidr.contains(try address("10.0.0.1")))
        #expect(cidr.contains(try address("10.255.255.255")))
        #expect(!cidr.contains(try address("11.0.0.0")))
        #expect(!cidr.contains(try address("9.255.255.255")))
    }

    @Test("contains IPv6 peers in its range only")
    func containsIPv6() throws {
        let cidr = try #require(CIDR("2001:db8:abcd::/48"))
        #expect(cidr.contains(try address("2001:db8:abcd:1::5")))
        #expect(!cidr.contains(try address("2001:db8:abce::5")))
        let host = try #require(CIDR("::1"))
        #expect(host.contains(try address("::1")))
        #expect(!host.contains(try address("::2")))
    }

    @Test("matches an IPv4-mapped IPv6 peer against IPv4 networks")
    func containsMappedIPv4() throws {
        let cidr = try #require(CIDR("192.0.2.0/24"))
        #expect(cidr.contains(try address("::ffff:192.0.2.44")))
        #expect(!cidr.contains(try address("::ffff:198.51.100.1")))
        #expect(!cidr.contains(try address("::192.0.2.44")))
    }

    @Test("keeps the address families apart for /0")
    func zeroPrefix() throws {
        let allIPv4 = try #require(CIDR("0.0.0.0/0"))
        let allIPv6 = try #require(CIDR("::/0"))
        #expect(allIPv4.contains(try address("203.0.113.9")))
        #expect(!allIPv4.contains(try address("2001:db8::1")))
        #expect(allIPv6.contains(try address("2001:db8::1")))
        #expect(!allIPv6.contains(try address("203.0.113.9")))
    }

    @Test("never contains a Unix domain socket peer")
    func unixSocket() throws {
        let cidr = try #require(CIDR("0.0.0.0/0"))
        #expect(!cidr.contains(try SocketAddress(unixDomainSocketPath: "/tmp/gateway.sock")))
    }

    @Test("checks raw address bytes of either length")
    func rawBytes() throws {
        let cidr = try #require(CIDR("10.0.0.0/8"))
        #expect(cidr.contains(ipBytes: [10, 1, 2, 3]))
        #expect(!cidr.contains(ipBytes: [11, 1, 2, 3]))
        #expect(cidr.contains(ipBytes: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 1, 2, 3]))
        #expect(!cidr.contains(ipBytes: [10, 1, 2]))
        let v6 = try #require(CIDR("fd00::/8"))
        #expect(v6.contains(ipBytes: [0xfd] + Array(repeating: 0, count: 15)))
        #expect(!v6.contains(ipBytes: [0xfe] + Array(repeating: 0, count: 15)))
    }

    @Test("treats equal networks written differently as equal")
    func equality() {
        #expect(CIDR("10.1.2.3/8") == CIDR("10.0.0.0/8"))
        #expect(CIDR("10.0.0.0/8") != CIDR("10.0.0.0/9"))
    }
}
