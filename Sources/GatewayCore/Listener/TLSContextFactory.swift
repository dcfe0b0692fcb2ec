import Foundation
import NIOSSL
import SwiftASN1
import X509

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

    /// Reads, checks and assembles the certificate chain and key, offering HTTP/2 by ALPN when
    /// `http2` is set. Blocking file I/O: call off the event loops.
    public static func makeServerContext(_ config: TLSConfig, http2: Bool = true, now: Date = Date()) throws(StartupError)
        -> NIOSSLContext
    {
        let chainPEM = try readFile(config.certificatePath, key: "tls.certificate")
        let keyPEM = try readFile(config.privateKeyPath, key: "tls.private_key")

        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMBytes(Array(chainPEM.utf8))
        } catch {
            throw StartupError("tls.certificate", "\(config.certificatePath) holds no readable PEM certificate")
        }
        guard let leafNIO = chain.first, let leaf = try? Certificate(derEncoded: leafNIO.toDERBytes()) else {
            throw StartupError("tls.certificate", "\(config.certificatePath) holds no readable PEM certificate")
        }
        guard leaf.notValidAfter > now else {
            throw StartupError("tls.certificate", "\(config.certificatePath) expired on \(leaf.notValidAfter)")
        }
        guard leaf.notValidBefore <= now else {
            throw StartupError("tls.certificate", "\(config.certificatePath) is not valid before \(leaf.notValidBefore)")
        }
        guard let privateKey = try? Certificate.PrivateKey(pemEncoded: keyPEM),
            let nioKey = try? NIOSSLPrivateKey(bytes: Array(keyPEM.utf8), format: .pem)
        else {
            throw StartupError("tls.private_key", "\(config.privateKeyPath) holds no readable PEM RSA or ECDSA private key")
        }
        guard privateKey.publicKey == leaf.publicKey else {
            throw StartupError("tls.private_key", "\(config.privateKeyPath) does not match the certificate in \(config.certificatePath)")
        }

        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(nioKey))
        tls.minimumTLSVersion = config.minVersion == .v1_3 ? .tlsv13 : .tlsv12
        tls.cipherSuiteValues = tls12CipherSuites
        tls.applicationProtocols = applicationProtocols(http2: http2)
        do {
            return try NIOSSLContext(configuration: tls)
        } catch {
            throw StartupError("tls", "the TLS context could not be built: \(error)")
        }
    }

    private static func readFile(_ path: String, key: String) throws(StartupError) -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw StartupError(key, "cannot read \(path)")
        }
        return String(decoding: data, as: UTF8.self)
    }
}
