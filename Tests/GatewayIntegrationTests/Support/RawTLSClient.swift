import NIOCore
import NIOPosix
import NIOSSL

/// Sends raw bytes over TLS and returns everything the server sent back before closing
/// (or before `timeout`): for requests a well-behaved HTTP client would refuse to send.
enum RawTLSClient {
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
        return try await withThrowingTaskGroup(of: String?.self) { group in
            group.addTask {
                var received = ByteBuffer()
                try? await channel.executeThenClose { inbound, outbound in
                    try await outbound.write(ByteBuffer(bytes: bytes))
                    for try await var chunk in inbound { received.writeBuffer(&chunk) }
                }
                return String(buffer: received)
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
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

    /// A request head as text with CRLF line ends.
    static func request(_ lines: [String], body: String = "") -> [UInt8] {
        Array((lines.joined(separator: "\r\n") + "\r\n\r\n" + body).utf8)
    }
}
