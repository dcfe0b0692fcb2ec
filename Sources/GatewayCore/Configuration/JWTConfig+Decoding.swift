extension JWTConfig {
    /// The keys of `[jwt]`.
    enum Key: String, ConfigKeys {
        case secretFile = "secret_file"
        case issuer
        case audience
        case leeway

        static var secretsHint: String? { #"secret_file = "path", or the JWT_SECRET_KEY environment variable"# }
    }

    static let maximumLeeway = Duration.seconds(5 * 60)

    init(decoding table: ConfigTable<Key>) {
        let defaults = JWTConfig()
        self.init(
            secretFile: table.filePath(.secretFile),
            issuer: table.nonEmptyString(.issuer),
            audience: table.nonEmptyString(.audience),
            leeway: table.duration(.leeway, atMost: Self.maximumLeeway) ?? defaults.leeway
        )
    }
}
