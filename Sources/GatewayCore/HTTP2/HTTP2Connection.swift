import NIOCore
import NIOHTTP1
import NIOHTTP2

/// An HTTP/2 client connection's pipeline, set up once ALPN chose `h2`: ``FlushCoalescer``, NIOHTTP2
/// with the gateway's limits, then ``HTTP2ConnectionManager``; each stream gets ``HTTP2StreamGuard``, the
/// HTTP/2-to-HTTP/1 codec and the same request handler as an HTTP/1.1 connection, so both
/// protocols take one request path (admission, policies, upstream pools, audit, access log).
enum HTTP2Connection {
    /// Adds the HTTP/2 handlers to `channel`, whose TLS handshake chose `h2`. `makeRequestHandler`
    /// makes the request handler of each stream; `reloaded` tells whether the config changed
    /// since the connection began.
    static func configure(
        _ channel: any Channel, server: ServerConfig, reloaded: @escaping () -> Bool,
        makeRequestHandler: @escaping @Sendable (any Channel) -> any ChannelHandler
    ) throws {
        let idleTimeout = TimeAmount(server.idleTimeout)
        let manager = HTTP2ConnectionManager(idleTimeout: idleTimeout, reloaded: reloaded)
        let http2 = NIOHTTP2Handler(
            mode: .server, eventLoop: channel.eventLoop, connectionConfiguration: connectionConfiguration(server),
            streamConfiguration: streamConfiguration, streamDelegate: manager.streamDelegate(on: channel.eventLoop)
        ) { stream in
            stream.eventLoop.makeCompletedFuture {
                let sync = stream.pipeline.syncOperations
                try sync.addHandler(HTTP2StreamGuard(idleTimeout: idleTimeout))
                try sync.addHandler(HTTP2FramePayloadToHTTP1ServerCodec())
                try sync.addHandler(makeRequestHandler(stream))
            }
        }
        let sync = channel.pipeline.syncOperations
        try sync.addHandler(FlushCoalescer())
        try sync.addHandler(http2)
        try sync.addHandler(manager)
    }

    /// The connection's limits. Our SETTINGS: at most `http2_max_concurrent_streams` open streams
    /// (NIOHTTP2 answers one more with GOAWAY `PROTOCOL_ERROR`), and a header list of at most `max_header_bytes` as
    /// HPACK counts it (decoded, 32 bytes per field on top), so a small HPACK block that decodes
    /// large is refused while decoding. NIOHTTP2's defences are kept at their defaults and stated
    /// here: at most 5 CONTINUATION frames in a row, 200 RST_STREAMs from the client, 200 stream
    /// errors and 200 PING/SETTINGS/PRIORITY frames per 30 s, 200 stream errors in all, and one
    /// empty DATA frame in a row; beyond any of these, GOAWAY (`ENHANCE_YOUR_CALM` for the rates)
    /// and the connection closes.
    static func connectionConfiguration(_ server: ServerConfig) -> NIOHTTP2Handler.ConnectionConfiguration {
        var configuration = NIOHTTP2Handler.ConnectionConfiguration()
        configuration.initialSettings = [
            HTTP2Setting(parameter: .maxConcurrentStreams, value: server.http2MaxConcurrentStreams),
            HTTP2Setting(parameter: .maxHeaderListSize, value: server.maxHeaderBytes),
            HTTP2Setting(parameter: .enablePush, value: 0),
        ]
        configuration.maximumSequentialContinuationFrames = 5
        configuration.maximumSequentialEmptyDataFrames = 1
        configuration.maximumConnectionGlitches = 200
        configuration.controlFrameRateLimit.maximumCount = 200
        configuration.controlFrameRateLimit.windowLength = .seconds(30)
        return configuration
    }

    /// Per stream: 64 KiB of request body in flight (the stream's window is reopened only as the
    /// request handler reads, which it stops while the upstream is slow), and the rapid-reset cap
    /// (CVE-2023-44487): 200 RST_STREAMs per 30 s, then GOAWAY.
    static let streamConfiguration: NIOHTTP2Handler.StreamConfiguration = {
        var configuration = NIOHTTP2Handler.StreamConfiguration()
        configuration.targetWindowSize = 65_535
        configuration.streamResetFrameRateLimit.maximumCount = 200
        configuration.streamResetFrameRateLimit.windowLength = .seconds(30)
        configuration.streamErrorRateLimit.maximumCount = 200
        configuration.streamErrorRateLimit.windowLength = .seconds(30)
        return configuration
    }()
}
