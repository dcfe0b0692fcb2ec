import NIOCore
import NIOSSL
import NIOTLS

#if canImport(Glibc)
    import Glibc
#endif

/// Acknowledges the client's last handshake flight the moment the TLS handshake completes.
///
/// In TLS 1.3 the server sends nothing after the client's Finished: BoringSSL holds its
/// NewSessionTickets until the first application write (so that a client that never reads cannot
/// stall a server), and NIOSSL has no zero-byte write that would flush them. With nothing to carry
/// it, Linux delays the ACK of the Finished by up to 40 ms, and a client with Nagle's algorithm on
/// holds its first request until that ACK arrives. An ACK sent at once (`TCP_QUICKACK`) lets the
/// request go. In TLS 1.2 the server's own Finished answers the client's and carries the ACK.
final class HandshakeAcknowledger: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // Passed on first: a removed handler's context no longer reaches the rest of the pipeline,
        // and the ALPN handler after it waits for this event.
        context.fireUserInboundEventTriggered(event)
        if case .handshakeCompleted = event as? TLSUserEvent {
            Self.acknowledgeNow(context.channel)
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
    }

    /// Sends any ACK the kernel is holding back now, instead of when its delayed-ACK timer fires.
    static func acknowledgeNow(_ channel: any Channel) {
        #if os(Linux)
            try? channel.syncOptions?.setOption(ChannelOptions.tcpOption(.init(rawValue: CInt(TCP_QUICKACK))), value: 1)
        #endif
    }
}
