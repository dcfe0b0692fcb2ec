import PostgresSupport

extension StoreConfig {
    /// The keys of `[store]`.
    enum Key: String, ConfigKeys {
        case path
        case url
        case passwordFile = "password_file"
        case connectTimeout = "connect_timeout"
        case statementTimeout = "statement_timeout"
        case poolSize = "pool_size"
        case auditRetention = "audit_retention"
        case onAuditOverflow = "on_audit_overflow"
        case auditQueueSize = "audit_queue_size"
        case syncInterval = "sync_interval"
        case onStoreLoss = "on_store_loss"

        static var secretsHint: String? { "the PostgreSQL password goes in password_file, a systemd credential or $PGPASSWORD" }
    }

    static let auditQueueSizeRange = 100...1_000_000
    static let poolSizeRange = 1...64
    static let syncIntervalRange = Duration.milliseconds(50)...Duration.seconds(60)

    init(decoding table: ConfigTable<Key>) {
        let defaults = StoreConfig()
        var postgres: PostgresStoreConfig?
        if let url = table.parsed(.url, Self.parseURL) {
            if table.contains(.path) { table.report(.path, "set beside store.url: the store is either a SQLite file or PostgreSQL") }
            postgres = PostgresStoreConfig(url: url)
            if let file = table.filePath(.passwordFile) { postgres?.passwordFile = file }
            if let timeout = table.duration(.connectTimeout, atMost: .seconds(60)) { postgres?.connectTimeout = timeout }
            if let timeout = table.duration(.statementTimeout, atMost: .seconds(60)) { postgres?.statementTimeout = timeout }
            if let size = table.int(.poolSize, in: Self.poolSizeRange) { postgres?.poolSize = size }
            if url.sslMode == .disable, !url.isLoopback {
                table.context.warn(
                    table.keyPath(.url),
                    "sslmode=disable to \(url.host), which is not this host: passwords and data cross the network in clear")
            }
        } else {
            for key in [Key.passwordFile, .connectTimeout, .statementTimeout, .poolSize] where table.contains(key) {
                table.report(key, "applies only with store.url (PostgreSQL)")
            }
        }
        var syncInterval = table.duration(.syncInterval)
        if let interval = syncInterval, !Self.syncIntervalRange.contains(interval) {
            table.report(.syncInterval, "\(interval.configDescription) is out of range", allowed: "50ms to 60s")
            syncInterval = nil
        }
        self.init(
            path: table.filePath(.path) ?? defaults.path,
            postgres: postgres,
            auditRetention: table.duration(.auditRetention) ?? defaults.auditRetention,
            onAuditOverflow: table.choice(.onAuditOverflow) ?? defaults.onAuditOverflow,
            auditQueueSize: table.int(.auditQueueSize, in: Self.auditQueueSizeRange) ?? defaults.auditQueueSize,
            syncInterval: syncInterval,
            onStoreLoss: table.choice(.onStoreLoss) ?? defaults.onStoreLoss
        )
    }

    private static func parseURL(_ text: String) throws(ConfigValueProblem) -> PostgresURL {
        do {
            return try PostgresURL(parsing: text)
        } catch {
            throw ConfigValueProblem(error.description, allowed: "postgres://USER@HOST:PORT/DATABASE?sslmode=verify-full")
        }
    }
}
