import NIOCore
import NIOEmbedded
import Synchronization
import Testing

@testable import GatewayCore

/// The accept-time caps: `max_connections` and `max_connections_per_client`, by the TCP peer.
@Suite("Connection limiter")
struct ConnectionLimiterTests {
    /// A connection from `address` accepted through `server`, and whether it was passed on (admitted).
    private static func accept(_ address: String, on server: EmbeddedChannel) throws -> (child: EmbeddedChannel, admitted: Bool) {
        let child = EmbeddedChannel()
        child.remoteAddress = try SocketAddress(ipAddress: address, port: 40_000)
        try server.writeInbound(child as any Channel)
        return (child, try server.readInbound(as: (any Channel).self) != nil)
    }

    private static func close(_ child: EmbeddedChannel) async throws {
        try await child.close()
        child.embeddedEventLoop.run()
    }

    private final class Refusals: Sendable {
        let reasons = Mutex<[ConnectionLimiter.Refusal]>([])
    }

    @Test("refuses a client's connection beyond max_connections_per_client, and takes one again after a close")
    func perClient() async throws {
        let refusals = Refusals()
        let limiter = ConnectionLimiter(limit: 10, perClient: 2) { reason in refusals.reasons.withLock { $0.append(reason) } }
        let server = EmbeddedChannel(handler: limiter)
        let first = try Self.accept("192.0.2.1", on: server)
        let second = try Self.accept("192.0.2.1", on: server)
        let third = try Self.accept("192.0.2.1", on: server)
        let other = try Self.accept("192.0.2.2", on: server)
        #expect(first.admitted && second.admitted && other.admitted)
        #expect(!third.admitted)
        #expect(limiter.openConnections == 3)
        #expect(refusals.reasons.withLock { $0 } == [.maxConnectionsPerClient])

        try await Self.close(first.child)
        #expect(try Self.accept("192.0.2.1", on: server).admitted)
        #expect(limiter.openConnections == 3)
        _ = try server.finish(acceptAlreadyClosed: true)
    }

    @Test("forgets an address once its last connection closes")
    func tableBounded() async throws {
        let limiter = ConnectionLimiter(limit: 100, perClient: 5)
        let server = EmbeddedChannel(handler: limiter)
        var children: [EmbeddedChannel] = []
        for index in 1...20 { children.append(try Self.accept("192.0.2.\(index)", on: server).child) }
        #expect(limiter.openClients == 20)
        for child in children { try await Self.close(child) }
        #expect(limiter.openClients == 0)
        #expect(limiter.openConnections == 0)
        _ = try server.finish(acceptAlreadyClosed: true)
    }

    @Test("refuses beyond max_connections under the reason it was given")
    func total() throws {
        let refusals = Refusals()
        let limiter = ConnectionLimiter(limit: 2, totalRefusal: .adminMaxConnections) { reason in
            refusals.reasons.withLock { $0.append(reason) }
        }
        let server = EmbeddedChannel(handler: limiter)
        let accepted = try (1...3).map { try Self.accept("192.0.2.\($0)", on: server) }
        #expect(accepted.map(\.admitted) == [true, true, false])
        #expect(refusals.reasons.withLock { $0 } == [.adminMaxConnections])
        _ = try server.finish(acceptAlreadyClosed: true)
    }
}
