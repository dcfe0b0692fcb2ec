extension LoginProtectionConfig {
    /// The keys of `[login_protection]`.
    enum Key: String, ConfigKeys {
        case maxFailuresPerClient = "max_failures_per_client"
        case maxFailuresPerUsername = "max_failures_per_username"
        case window
        case cooldown
    }

    /// Failures remembered per key at most: each is a timestamp kept for the window.
    static let maxFailuresRange = 0...100
    static let longestPeriod = Duration.seconds(24 * 3600)

    init(decoding table: ConfigTable<Key>) {
        let defaults = LoginProtectionConfig()
        self.init(
            maxFailuresPerClient: table.int(.maxFailuresPerClient, in: Self.maxFailuresRange) ?? defaults.maxFailuresPerClient,
            maxFailuresPerUsername: table.int(.maxFailuresPerUsername, in: Self.maxFailuresRange)
                ?? defaults.maxFailuresPerUsername,
            window: table.duration(.window, atMost: Self.longestPeriod) ?? defaults.window,
            cooldown: table.duration(.cooldown, atMost: Self.longestPeriod) ?? defaults.cooldown
        )
    }
}
