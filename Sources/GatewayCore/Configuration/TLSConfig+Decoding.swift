extension TLSConfig {
    /// The keys of `[tls]`.
    enum Key: String, ConfigKeys {
        case certificate
        case privateKey = "private_key"
        case minVersion = "min_version"
        case hsts
        case hstsMaxAge = "hsts_max_age"
    }

    init(decoding table: ConfigTable<Key>) {
        let defaults = TLSConfig(certificatePath: "", privateKeyPath: "")
        self.init(
            certificatePath: table.filePath(.certificate, required: true) ?? defaults.certificatePath,
            privateKeyPath: table.filePath(.privateKey, required: true) ?? defaults.privateKeyPath,
            minVersion: table.choice(.minVersion) ?? defaults.minVersion,
            hsts: table.bool(.hsts) ?? defaults.hsts,
            hstsMaxAge: table.duration(.hstsMaxAge) ?? defaults.hstsMaxAge
        )
    }
}
