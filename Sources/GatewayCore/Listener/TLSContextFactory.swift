import Foundation
import NIOSSL

/// Why the gateway could not start or reload; addressed to the operator, never to a client.
public struct StartupError: Error, CustomStringConvertible, Equatable {
    /// The config key the problem belongs to, e.g. `tls.private_key`.
    public let keyPath: String
    public let message: String

    public init(_ keyPath: String, _ message: String) {
        self.keyPath = keyPath
        self.message = message
    }

    public var description: String { "\(keyPath): \(message)" }
}

/// Builds the listener's TLS context from PEM files, refusing anything an operator would regret.
public enum TLSContextFactory {
    /// TLS 1.2 suites: ECDHE key exchange with AEAD ciphers only. TLS 1.3 suites are all AEAD.
    static let tls12CipherSuites: [NIOTLSCipher] = [
        .TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, .TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        .TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, .TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        .TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, .TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        .TLS_AES_128_GCM_SHA256, .TLS_AES_256_GCM_SHA384, .TLS_CHACHA20_POLY1305_SHA256,
    ]

    /// ALPN protocols offered, in preference order: `h2` first when HTTP/2 is on, `http/1.1` always.
    /// A client that offers neither (or no ALPN at all) is served HTTP/1.1.
    static func applicationProtocols(http2: Bool) -> [String] {
        http2 ? [ApplicationProtocol.http2, ApplicationProtocol.http1] : [ApplicationProtocol.http1]
    }

    /// ALPN protocol identifiers (RFC 7301 registry).
    enum ApplicationProtocol {
        static let http2 = "h2"
        static let http1 = "http/1.1"
    }

    /// Reads, checks and assembles the certificate chains and keys, offering HTTP/2 by ALPN when
    /// `http2` is set; with several certificates, the context picks each handshake's by SNI.
    /// Blocking file I/O: call off the event loops.
    public static func makeServerContext(_ config: TLSConfig, http2: Bool = true, now: Date = Date()) throws(StartupError)
        -> NIOSSLContext
    {
        try makeServer(config, http2: http2, now: now).context
    }

    /// The context of ``makeServerContext(_:http2:now:)`` and the certificates it serves.
    static func makeServer(_ config: TLSConfig, http2: Bool, now: Date) throws(StartupError)
        -> (context: NIOSSLContext, certificates: [CertificateInUse])
    {
        var certificates: [ServedCertificate] = []
        for certificate in config.certificates { certificates.append(try ServedCertificate(certificate, now: now)) }
        guard let first = certificates.first else { throw StartupError("tls", "no certificate is configured") }
        let selector = certificates.count > 1 ? try SNICertificateSelector(certificates) : nil

        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: first.chain.map { .certificate($0) }, privateKey: .privateKey(first.privateKey))
        tls.minimumTLSVersion = config.minVersion == .v1_3 ? .tlsv13 : .tlsv12
        tls.cipherSuiteValues = tls12CipherSuites
        tls.applicationProtocols = applicationProtocols(http2: http2)
        if let selector { tls.sslContextCallback = { values, promise in selector.select(values, promise) } }
        do {
            return (try NIOSSLContext(configuration: tls), certificates.map(\.inUse))
        } catch {
            throw StartupError("tls", "the TLS context could not be built: \(error)")
        }
    }
}
