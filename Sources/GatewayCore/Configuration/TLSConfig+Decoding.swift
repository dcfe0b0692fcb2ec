extension TLSConfig {
    /// The keys of `[tls]`: a lone certificate's, its own, and the `certificates` entries.
    enum Key: String, ConfigKeys {
        case certificate
        case privateKey = "private_key"
        case minVersion = "min_version"
        case hsts
        case hstsMaxAge = "hsts_max_age"
        case certificates
    }

    init(decoding table: ConfigTable<Key>) {
        let defaults = TLSConfig(certificatePath: "", privateKeyPath: "")
        let certificates: [TLSCertificateConfig]
        if table.contains(.certificates) {
            certificates = table.entries(.certificates, keys: TLSCertificateConfig.Key.self).map(TLSCertificateConfig.init(decoding:))
        } else {
            certificates = [
                TLSCertificateConfig(
                    certificatePath: table.filePath(.certificate, required: true) ?? "",
                    privateKeyPath: table.filePath(.privateKey, required: true) ?? "")
            ]
        }
        self.init(
            certificates: certificates,
            minVersion: table.choice(.minVersion) ?? defaults.minVersion,
            hsts: table.bool(.hsts) ?? defaults.hsts,
            hstsMaxAge: table.duration(.hstsMaxAge) ?? defaults.hstsMaxAge
        )
        if table.contains(.certificates) { checkNoLoneCertificateKeys(table) }
        checkServerNamesAreDistinct(table.context)
    }

    /// With `[[tls.certificates]]`, every certificate is an entry: one set in `[tls]` too would be
    /// ambiguous (which is the default?).
    private func checkNoLoneCertificateKeys(_ table: ConfigTable<Key>) {
        for key in [Key.certificate, .privateKey] where table.contains(key) {
            table.report(key, "with [[tls.certificates]], set this in each certificate entry instead")
        }
    }

    /// A name listed twice would make the choice of certificate depend on the order of entries.
    private func checkServerNamesAreDistinct(_ context: ConfigContext) {
        var listedBy: [ServerName: String] = [:]
        for certificate in certificates {
            for (index, name) in (certificate.serverNames ?? []).enumerated() {
                if let first = listedBy[name] {
                    context.report(
                        "\(certificate.configPath).server_names[\(index)]", "\(name.name.quotedForConfig) is already listed by \(first)")
                } else {
                    listedBy[name] = certificate.configPath
                }
            }
        }
    }
}

extension TLSCertificateConfig {
    /// The keys of a `[[tls.certificates]]` entry.
    enum Key: String, ConfigKeys {
        case certificate
        case privateKey = "private_key"
        case serverNames = "server_names"
    }

    init(decoding table: ConfigTable<Key>) {
        self.init(
            certificatePath: table.filePath(.certificate, required: true) ?? "",
            privateKeyPath: table.filePath(.privateKey, required: true) ?? "",
            serverNames: table.array(.serverNames, ServerName.init(configValue:)),
            configPath: table.path)
        if serverNames?.isEmpty == true {
            table.report(.serverNames, "must name at least one server name; leave it out to take them from the certificate")
        }
    }
}
