import NIOCore
import NIOHTTP1
import NIOPosix

/// The plain-HTTP listeners beside the TLS one (the redirect listener, the admin listener), bounded
/// as it is: connections beyond `limiter` are closed on accept; each gets `request_header_timeout`
/// and `idle_timeout`, and NIO's HTTP/1 codec with the TLS listener's header limits, one request
/// answered at a time.
enum PlainHTTPListener {
    /// A bootstrap for such a listener on `group`, each connection ending in the handler `makeHandler` makes.
    static func bootstrap(
        group: any EventLoopGroup, limiter: ConnectionLimiter, server: ServerConfig,
        makeHandler: @escaping @Sendable () -> any ChannelHandler
    ) -> ServerBootstrap {
        ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(limiter) }
            }
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(
                        ConnectionTimeoutHandler(
                            headerTimeout: TimeAmount(server.requestHeaderTimeout), idleTimeout: TimeAmount(server.idleTimeout)))
                    try sync.configureHTTPServerPipeline(
                        withPipeliningAssistance: true, withErrorHandling: true, withEncoderConfiguration: .init(),
                        withDecoderLimitConfiguration: GatewayServer.decoderLimits(server))
                    try sync.addHandler(makeHandler())
                }
            }
    }
}
