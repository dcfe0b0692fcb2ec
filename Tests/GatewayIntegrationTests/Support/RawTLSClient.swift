import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// Sends raw bytes over TLS and returns everything the server sent back before closing (or
/// `timeout` after the first byte, for a connection the server keeps open): for requests a
/// well-behaved HTTP client would refuse to send. A busy machine may take long to answer at all,
/// so the first byte is awaited for up to a minute.
enum RawTLSClient {
    static let firstByteTimeout = Duration.seconds(60)

    static func exchange(
        port: Int, caPath: String, bytes: [UInt8], timeout: Duration = .seconds(3)
    ) async throws -> String {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .file(caPath)
        let context = try NIOSSLContext(configuration: tls)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        NIOSSLClientHandler(context: context, serverHostname: "localhost"))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let firstByte = FirstByte()
        return try await withThrowingTaskGroup(of: String?.self) { group in
            group.addTask {
                var received = ByteBuffer()
                try? await channel.executeThenClose { inbound, outbound in
                    try await outbound.write(ByteBuffer(bytes: bytes))
                    for try await var chunk in inbound {
                        firstByte.time.withLock { $0 = $0 ?? .now }
                        received.writeBuffer(&chunk)
                    }
                }
                return String(buffer: received)
            }
            group.addTask {
                let start = ContinuousClock.now
                while !Task.isCancelled {
                    let deadline = firstByte.time.withLock { $0 }.map { $0 + timeout } ?? start + max(timeout, firstByteTimeout)
                    if ContinuousClock.now >= deadline { break }
                    try? await Task.sleep(for: .milliseconds(50))
                }
                channel.channel.close(promise: nil)
                return nil
            }
            var answer = ""
            for try await value in group {
                guard let value else { continue }
                answer = value
                group.cancelAll()
            }
            return answer
        }
    }

    /// When the first byte of the answer arrived.
    private final class FirstByte: Sendable {
        let time = Mutex<ContinuousClock.Instant?>(nil)
    }

    /// A request head as text with CRLF line ends.
    static func request(_ lines: [String], body: String = "") -> [UInt8] {
        Array((lines.joined(separator: "\r\n") + "\r\n\r\n" + body).utf8)
    }
}
