import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// A slow uploader: sends a request head over TLS, then its body `chunk` bytes at a time with a
/// pause between, until the body is sent or the server answers and closes; returns everything the
/// server sent and how many body bytes went out. The head should say `Connection: close`, so
/// that the answer ends with the connection.
enum TricklingClient {
    struct Outcome {
        let answer: String
        let bodyBytesSent: Int
        /// When the body's last byte went out; `nil` when it never did.
        let bodyFinished: ContinuousClock.Instant?

        /// The status code of the answer, if there was one.
        var status: Int? { answer.split(separator: " ", maxSplits: 2).dropFirst().first.flatMap { Int($0) } }
    }

    /// What the server sent, and whether it is done.
    private final class Answer: Sendable {
        let bytes = Mutex(ByteBuffer())
        let ended = Atomic(false)
    }

    static func send(
        port: Int, head: [String], body: [UInt8], chunk: Int = 1, pause: Duration, onHeadSent: @escaping @Sendable () -> Void = {}
    ) async throws -> Outcome {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .file(Fixtures.caCertificate)
        let context = try NIOSSLContext(configuration: tls)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: "localhost"))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let answer = Answer()
        var sent = 0
        var finished: ContinuousClock.Instant?
        try await channel.executeThenClose { inbound, outbound in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    do {
                        for try await var part in inbound { answer.bytes.withLock { _ = $0.writeBuffer(&part) } }
                    } catch {}
                    answer.ended.store(true, ordering: .relaxed)
                }
                try await outbound.write(ByteBuffer(string: head.joined(separator: "\r\n") + "\r\n\r\n"))
                onHeadSent()
                var rest = body[...]
                while !rest.isEmpty, !answer.ended.load(ordering: .relaxed) {
                    try await Task.sleep(for: pause)
                    let piece = rest.prefix(chunk)
                    do {
                        try await outbound.write(ByteBuffer(bytes: piece))
                    } catch {
                        break
                    }
                    sent += piece.count
                    rest = rest.dropFirst(piece.count)
                    if rest.isEmpty { finished = .now }
                }
                try await group.waitForAll()
            }
        }
        return Outcome(answer: answer.bytes.withLock { String(buffer: $0) }, bodyBytesSent: sent, bodyFinished: finished)
    }
}
