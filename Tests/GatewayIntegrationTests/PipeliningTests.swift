import Foundation
import GatewayCore
import NIOHTTP1
import Testing

/// Pipelined requests: answered in order, none lost, and no way to exhaust the gateway with them.
@Suite("Pipelining")
struct PipeliningTests {
    func exchange(_ bytes: [UInt8], timeout: Duration = .seconds(5)) async throws -> String {
        let refusing = try RefusingPort()
        defer { withExtendedLifetime(refusing) {} }
        return try await TestUpstream.with { upstream in
            let config = GatewayHarness.config(
                upstreams: ["test": upstream.port, "down": refusing.port],
                routes: [RouteConfig(path: "/", upstream: "test", auth: .none), RouteConfig(path: "/down", upstream: "down", auth: .none)])
            return try await GatewayHarness.with(config) { gateway in
                let answer = try await RawTLSClient.exchange(
                    port: gateway.port, caPath: Fixtures.caCertificate, bytes: bytes, timeout: timeout)
                let after = try await gateway.send("/echo/after")
                #expect(after.status == .ok, "the gateway still serves new connections")
                return answer
            }
        }
    }

    @Test("thousands of pipelined requests refused on the spot neither crash the gateway nor run unbounded")
    func rejectedFlood() async throws {
        let refused = RawTLSClient.request(["GET / HTTP/1.1"])  // no Host: refused at once with 400
        let bytes =
            RawTLSClient.request(["GET /slow?ms=300 HTTP/1.1", "Host: localhost"]) + Array(repeating: refused, count: 5000).flatMap { $0 }
        let answer = try await exchange(bytes)
        let responses = answer.components(separatedBy: "HTTP/1.1 ").count - 1
        #expect(answer.hasPrefix("HTTP/1.1 200"))
        #expect(responses >= 2 && responses < 100, "the connection is closed after a few re-entrant answers (\(responses))")
    }

    @Test("a request pipelined behind one the gateway answers itself is still answered")
    func afterGatewayAnswer() async throws {
        let bytes =
            RawTLSClient.request(["GET /down/x HTTP/1.1", "Host: localhost"])
            + RawTLSClient.request(["GET /echo/second HTTP/1.1", "Host: localhost", "Connection: close"])
        let answer = try await exchange(bytes)
        #expect(answer.hasPrefix("HTTP/1.1 502"))
        #expect(answer.contains(#""uri":"\/echo\/second""#) || answer.contains(#""uri":"/echo/second""#))
    }
}
