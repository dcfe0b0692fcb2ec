import Foundation
import NIOCore
import NIOEmbedded
import Testing

@testable import GatewayCore

/// ``ProxyHandler`` on an `EmbeddedChannel`, behind the same HTTP/1.1 handlers as on a real
/// connection: the answers the gateway gives itself, in order, and when it closes.
@Suite("Proxy handler")
struct ProxyHandlerTests {
    /// A connected client pipeline that has been sent `requests`, one write each; returns what it answered.
    static func answers(to requests: String...) async throws -> (text: String, open: Bool) {
        let channel = EmbeddedChannel()
        _ = try HandlerFixture.clientPipeline(on: channel, runtime: try HandlerFixture.runtime())
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 40_100))
        for request in requests {
            try channel.writeInbound(ByteBuffer(string: request))
            channel.embeddedEventLoop.run()
        }
        let text = try HandlerFixture.readAll(channel)
        let open = channel.isActive
        _ = try? await channel.close()
        return (text, open)
    }

    static func statusLines(_ text: String) -> [String] {
        // A problem body does not end in CRLF: the next answer's status line follows it directly.
        text.components(separatedBy: "HTTP/1.1 ").dropFirst().map { "HTTP/1.1 " + ($0.components(separatedBy: "\r\n").first ?? "") }
    }

    @Test("requests are answered in order on a connection that stays open")
    func pipelined() async throws {
        let (text, open) = try await Self.answers(
            to: "GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n", "GET /api HTTP/1.1\r\nHost: x\r\n\r\n",
            "DELETE /nowhere HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(Self.statusLines(text) == ["HTTP/1.1 404 Not Found", "HTTP/1.1 401 Unauthorized", "HTTP/1.1 404 Not Found"])
        #expect(!text.contains("Connection: close"))
        #expect(open)
    }

    @Test("Connection: close is honoured after the answer, and later pipelined requests are not read")
    func closes() async throws {
        let (text, open) = try await Self.answers(
            to: "GET /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(Self.statusLines(text) == ["HTTP/1.1 404 Not Found"])
        #expect(text.contains("Connection: close"))
        #expect(!open)
    }

    @Test("bytes that do not parse as HTTP/1.1 are answered 400 bad_framing once, then the connection closes")
    func unparsable() async throws {
        let (text, open) = try await Self.answers(to: "GET /nowhere HTTP/1.1\r\nHost x\r\n\r\n")
        #expect(Self.statusLines(text) == ["HTTP/1.1 400 Bad Request"])
        #expect(text.contains("\"code\":\"bad_framing\""))
        #expect(!open)
    }

    @Test("a refusal with a body left unread closes the connection instead of reading it")
    func unreadBody() async throws {
        let (text, open) = try await Self.answers(to: "POST /api HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhel")
        #expect(Self.statusLines(text) == ["HTTP/1.1 401 Unauthorized"])
        #expect(text.contains("Connection: close"))
        #expect(!open)
    }

    @Test("request ids are 32 lower-case hex digits, each different")
    func requestIDs() {
        let ids = (0..<1_000).map { _ in RequestID.generate() }
        #expect(Set(ids).count == ids.count)
        #expect(ids.allSatisfy { $0.utf8.count == 32 && $0.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) } })
        // Every digit value turns up in every position over a thousand ids: none is stuck.
        for position in 0..<32 {
            let digits = Set(ids.map { $0.utf8[$0.utf8.index($0.utf8.startIndex, offsetBy: position)] })
            #expect(digits.count == 16, "position \(position)")
        }
    }
}
