import Foundation
import NIOSSL
import SwiftASN1
import X509

/// A certificate chain and its private key, read from their files and checked for serving.
struct ServedCertificate {
    let chain: [NIOSSLCertificate]
    let privateKey: NIOSSLPrivateKey
    /// The leaf, parsed.
    let leaf: Certificate
    let config: TLSCertificateConfig

    /// Reads the files and refuses a chain without a readable leaf, a leaf that is expired or not
    /// yet valid, and a key that is not the leaf's. Blocking file I/O: call off the event loops.
    init(_ config: TLSCertificateConfig, now: Date) throws(StartupError) {
        let certificateKey = "\(config.configPath).certificate"
        let privateKeyKey = "\(config.configPath).private_key"
        let chainPEM = try Self.readFile(config.certificatePath, key: certificateKey)
        let keyPEM = try Self.readFile(config.privateKeyPath, key: privateKeyKey)

        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMBytes(Array(chainPEM.utf8))
        } catch {
            throw StartupError(certificateKey, "\(config.certificatePath) holds no readable PEM certificate")
        }
        guard let leafNIO = chain.first, let leaf = try? Certificate(derEncoded: leafNIO.toDERBytes()) else {
            throw StartupError(certificateKey, "\(config.certificatePath) holds no readable PEM certificate")
        }
        guard leaf.notValidAfter > now else {
            throw StartupError(certificateKey, "\(config.certificatePath) expired on \(leaf.notValidAfter)")
        }
        guard leaf.notValidBefore <= now else {
            throw StartupError(certificateKey, "\(config.certificatePath) is not valid before \(leaf.notValidBefore)")
        }
        guard let privateKey = try? Certificate.PrivateKey(pemEncoded: keyPEM),
            let nioKey = try? NIOSSLPrivateKey(bytes: Array(keyPEM.utf8), format: .pem)
        else {
            throw StartupError(privateKeyKey, "\(config.privateKeyPath) holds no readable PEM RSA or ECDSA private key")
        }
        guard privateKey.publicKey == leaf.publicKey else {
            throw StartupError(privateKeyKey, "\(config.privateKeyPath) does not match the certificate in \(config.certificatePath)")
        }
        self.chain = chain
        self.privateKey = nioKey
        self.leaf = leaf
        self.config = config
    }

    /// What the metrics say about it: its first server name (or file) and when it expires.
    var inUse: CertificateInUse {
        CertificateInUse(
            name: (try? serverNames())?.first ?? config.certificatePath, notValidAfter: leaf.notValidAfter)
    }

    /// The DNS names of the leaf's subjectAltName, lowercased.
    var dnsNames: [String] {
        guard let names = try? leaf.extensions.subjectAlternativeNames else { return [] }
        return names.compactMap { if case .dnsName(let name) = $0 { name.lowercased() } else { nil } }
    }

    /// The names this certificate is chosen for: its `server_names`, each of which its
    /// subjectAltName must cover (a client checking the name would refuse it otherwise), or else
    /// the DNS names of its subjectAltName.
    func serverNames() throws(StartupError) -> [String] {
        let dnsNames = dnsNames
        guard let listed = config.serverNames else { return dnsNames }
        for (index, name) in listed.enumerated() where !dnsNames.contains(where: { ServerName.name($0, covers: name.name) }) {
            let covered = dnsNames.isEmpty ? "it has no DNS names" : "it covers \(dnsNames.joined(separator: ", "))"
            throw StartupError(
                "\(config.configPath).server_names[\(index)]",
                "\(config.certificatePath) is not valid for \(name.name.quotedForConfig) (\(covered)); clients would refuse it")
        }
        return listed.map(\.name)
    }

    private static func readFile(_ path: String, key: String) throws(StartupError) -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw StartupError(key, "cannot read \(path)")
        }
        return String(decoding: data, as: UTF8.self)
    }
}

/// A certificate the TLS listener serves, as `gateway_tls_certificate_expiry_timestamp_seconds` names it.
public struct CertificateInUse: Sendable, Equatable {
    /// The first name it is served for, or its file when it names none.
    public let name: String
    public let notValidAfter: Date
}
