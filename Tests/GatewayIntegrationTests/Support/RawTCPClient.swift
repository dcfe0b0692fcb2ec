import NIOCore
import NIOPosix
import Synchronization

/// A plain TCP connection that sends raw bytes and collects what comes back: for the admin
/// listener's limits (timeouts, caps) and requests a well-behaved client would never send.
final class RawTCPConnection: Sendable {
    private let channel: any Channel
    private let collector: Collector

    private init(_ channel: any Channel, collector: Collector) {
        self.channel = channel
        self.collector = collector
    }

    /// Connects to `port` on loopback and sends `bytes`. A server that closes the connection on
    /// accept may do so before the bytes go out: that is not an error, ``untilClosed(limit:)`` shows it.
    static func open(port: Int, sending bytes: [UInt8] = []) async throws -> RawTCPConnection {
        let collector = Collector()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(collector) }
            }
            .connect(host: "127.0.0.1", port: port).get()
        let connection = RawTCPConnection(channel, collector: collector)
        do {
            if !bytes.isEmpty { try await connection.send(bytes) }
        } catch {
            if channel.isActive { throw error }
        }
        return connection
    }

    func send(_ bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes))
    }

    /// Everything the server sent, once it has closed the connection; `nil` when it has not closed
    /// it after `limit` (the client then closes it).
    func untilClosed(limit: Duration = .seconds(60)) async throws -> String? {
        let channel = channel
        let closedByServer = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                try? await channel.closeFuture.get()
                return !Task.isCancelled
            }
            group.addTask {
                try? await Task.sleep(for: limit)
                return false
            }
            let first = await group.next() ?? false
            channel.close(promise: nil)
            group.cancelAll()
            return first
        }
        return closedByServer ? collector.state.withLock { $0.text } : nil
    }

    /// What arrived once it contains `text`, or the connection closed, or a minute passed.
    func read(until text: String) async throws -> String {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            let (received, closed) = collector.state.withLock { ($0.text, $0.closed) }
            if received.contains(text) || closed { return received }
            try await Task.sleep(for: .milliseconds(20))
        }
        return collector.state.withLock { $0.text }
    }

    func close() async {
        try? await channel.close()
    }

    /// Sends `bytes` to `port` and returns all the server sent until it closed the connection.
    static func exchange(port: Int, bytes: [UInt8]) async throws -> String? {
        try await open(port: port, sending: bytes).untilClosed()
    }

    private final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer

        let state = Mutex((text: "", closed: false))

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let bytes = unwrapInboundIn(data)
            state.withLock { $0.text += String(buffer: bytes) }
        }

        func channelInactive(context: ChannelHandlerContext) {
            state.withLock { $0.closed = true }
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }
}
