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

    @Test(
        "a request that ends the connection is answered, and what follows it in the same record is ignored",
        arguments: [
            ["GET /echo/first HTTP/1.1", "Host: localhost", "Connection: close"],
            ["GET /echo/first HTTP/1.0", "Host: localhost"],
        ])
    func closingRequestWithMoreBehind(_ first: [String]) async throws {
        // One write, so one TLS record: the decoder sees the second request while the first is upstream.
        let bytes = RawTLSClient.request(first) + RawTLSClient.request(["GET /echo/second HTTP/1.1", "Host: localhost"])
        let answer = try await exchange(bytes)
        #expect(answer.hasPrefix("HTTP/1.1 200") || answer.hasPrefix("HTTP/1.0 200"), "the first request is answered: \(answer)")
        #expect(answer.contains("first"))
        #expect(!answer.contains("second"), "nothing after the closing request is served")
        #expect(answer.components(separatedBy: "HTTP/1.").count - 1 == 1)
    }

    @Test("a drain closing a connection with half a request buffered answers nothing more and does not crash")
    func drainWithPartialRequest() async throws {
        try await TestUpstream.with { upstream in
            let config = GatewayHarness.config(
                upstreams: ["test": upstream.port], routes: [RouteConfig(path: "/", upstream: "test", auth: .none)])
            try await GatewayHarness.with(config) { gateway in
                let bytes = RawTLSClient.request(["GET /echo HTTP/1.1", "Host: localhost"]) + Array("GET /echo HTTP/1.1\r\nHos".utf8)
                async let answer = RawTLSClient.exchange(
                    port: gateway.port, caPath: Fixtures.caCertificate, bytes: bytes, timeout: .seconds(10))
                let deadline = ContinuousClock.now + .seconds(5)
                while upstream.requestsSeen < 1, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
                try await Task.sleep(for: .milliseconds(100))  // the first answer is on its way back
                // The decoder reports the half request only as the drain closes the connection.
                try await gateway.server.shutdown()
                let received = try await answer
                #expect(received.hasPrefix("HTTP/1.1 200"))
                #expect(received.components(separatedBy: "HTTP/1.1 ").count - 1 == 1, "no answer to the half request: \(received)")
            }
        }
    }
}
