import NIOCore
import NIOSSL

/// Chooses the certificate of each TLS handshake by the name the client sent (SNI): an exact name
/// first, then a wildcard one label up; an unknown name, or none, gets the default (first) one.
struct SNICertificateSelector: Sendable {
    /// Index into `overrides` by exact name, lowercased.
    private let exact: [String: Int]
    /// Index into `overrides` by the name under a wildcard: `example.com` for `*.example.com`.
    private let wildcard: [String: Int]
    /// The chain and key of each certificate, in config order.
    private let overrides: [NIOSSLContextConfigurationOverride]

    /// Names listed in `server_names` take precedence over names taken from a certificate's
    /// subjectAltName; among those, the earlier certificate keeps a name.
    init(_ certificates: [ServedCertificate]) throws(StartupError) {
        var exact: [String: Int] = [:]
        var wildcard: [String: Int] = [:]
        var listed: [(index: Int, names: [String])] = []
        var fromSAN: [(index: Int, names: [String])] = []
        for (index, certificate) in certificates.enumerated() {
            let names = try certificate.serverNames()
            if certificate.config.serverNames != nil {
                listed.append((index, names))
            } else {
                if index > 0, names.isEmpty {
                    throw StartupError(
                        "\(certificate.config.configPath).server_names",
                        "missing: \(certificate.config.certificatePath) has no DNS names to be chosen by, so list them")
                }
                fromSAN.append((index, names))
            }
        }
        for (index, names) in listed + fromSAN {
            for name in names {
                if name.hasPrefix("*.") {
                    let parent = String(name.dropFirst(2))
                    wildcard[parent] = wildcard[parent] ?? index
                } else {
                    exact[name] = exact[name] ?? index
                }
            }
        }
        self.exact = exact
        self.wildcard = wildcard
        self.overrides = certificates.map { certificate in
            var override = NIOSSLContextConfigurationOverride()
            override.certificateChain = certificate.chain.map { .certificate($0) }
            override.privateKey = .privateKey(certificate.privateKey)
            return override
        }
    }

    /// The index of the certificate for `serverName`: 0, the default, when nothing matches.
    func index(for serverName: String?) -> Int {
        guard var host = serverName?.lowercased(), !host.isEmpty else { return 0 }
        if host.hasSuffix(".") { host.removeLast() }
        if let index = exact[host] { return index }
        guard let dot = host.firstIndex(of: "."), dot != host.startIndex else { return 0 }
        return wildcard[String(host[host.index(after: dot)...])] ?? 0
    }

    /// The `sslContextCallback`: the default certificate is the context's own, so it needs no change.
    func select(_ values: NIOSSLClientExtensionValues, _ promise: EventLoopPromise<NIOSSLContextConfigurationOverride>) {
        let index = index(for: values.serverHostname)
        promise.succeed(index == 0 ? .noChanges : overrides[index])
    }
}
