import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS

/// Opens many short-lived connections to a TLS listener, a few at a time, each of one shape.
enum ConnectionChurn {
    /// What one connection does before it closes.
    enum Shape: Sendable {
        /// Connects and closes without a TLS handshake.
        case connectOnly
        /// Completes the TLS handshake, then closes.
        case handshakeOnly
        /// Sends these bytes after the handshake, reads to the end, then closes.
        case request([UInt8])
    }

    /// Runs `count` connections of `shape`, `concurrency` at a time; returns how many failed to connect.
    static func run(
        _ shape: Shape, count: Int, port: Int, tls: NIOSSLContext, concurrency: Int = 8
    ) async throws -> Int {
        try await withThrowingTaskGroup(of: Int.self) { group in
            for worker in 0..<concurrency {
                let share = count / concurrency + (worker < count % concurrency ? 1 : 0)
                group.addTask {
                    var failures = 0
                    for _ in 0..<share where !(await connect(shape, port: port, tls: tls)) { failures += 1 }
                    return failures
                }
            }
            return try await group.reduce(0, +)
        }
    }

    /// One connection of `shape`; false when it could not connect.
    private static func connect(_ shape: Shape, port: Int, tls: NIOSSLContext) async -> Bool {
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        do {
            switch shape {
            case .connectOnly:
                let channel = try await bootstrap.connect(host: "127.0.0.1", port: port).get()
                try await channel.close()
            case .handshakeOnly, .request:
                let (channel, handshake) = try await bootstrap.connect(host: "127.0.0.1", port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let handshake = HandshakeWaiter(channel.eventLoop.makePromise())
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tls, serverHostname: "localhost"))
                        try channel.pipeline.syncOperations.addHandler(handshake)
                        return (
                            try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel), handshake.done.futureResult
                        )
                    }
                }
                try? await channel.executeThenClose { inbound, outbound in
                    try await handshake.get()
                    guard case .request(let bytes) = shape else { return }
                    try await outbound.write(ByteBuffer(bytes: bytes))
                    for try await _ in inbound {}
                }
            }
            return true
        } catch {
            return false
        }
    }

    /// A client TLS context that trusts the test CA and never resumes a session: every
    /// connection pays a full handshake, as the first visit of a client does.
    static func clientContext() throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.trustRoots = .file(Fixtures.caCertificate)
        return try NIOSSLContext(configuration: configuration)
    }
}

/// Completes its promise when the TLS handshake is done, or fails it when the connection ends first.
private final class HandshakeWaiter: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    let done: EventLoopPromise<Void>

    init(_ done: EventLoopPromise<Void>) { self.done = done }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted = event as? TLSUserEvent { done.succeed() }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        done.fail(error)
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        done.fail(ChannelError.ioOnClosedChannel)
        context.fireChannelInactive()
    }
}
