/// The protocol a ``ProxyHandler``'s channel speaks to the client: what differs between an
/// HTTP/1.1 connection and an HTTP/2 stream once both are HTTP/1-style request parts.
///
/// An HTTP/2 stream carries exactly one request; closing the stream's channel resets that stream
/// alone, and connection management (`Connection`, keep-alive) is the HTTP/2 connection's business,
/// so no `Connection` header is written on a stream (RFC 9113 §8.2.2).
enum ClientProtocol: Sendable {
    case http1
    case http2

    /// Whether answers say `Connection: close` / `keep-alive` to the client.
    var sendsConnectionHeader: Bool { self == .http1 }
}
