extension StoreConfig {
    /// The keys of `[store]`.
    enum Key: String, ConfigKeys {
        case path
        case auditRetention = "audit_retention"
        case onAuditOverflow = "on_audit_overflow"
        case auditQueueSize = "audit_queue_size"
    }

    static let auditQueueSizeRange = 100...1_000_000

    init(decoding table: ConfigTable<Key>) {
        let defaults = StoreConfig()
        self.init(
            path: table.filePath(.path) ?? defaults.path,
            auditRetention: table.duration(.auditRetention) ?? defaults.auditRetention,
            onAuditOverflow: table.choice(.onAuditOverflow) ?? defaults.onAuditOverflow,
            auditQueueSize: table.int(.auditQueueSize, in: Self.auditQueueSizeRange) ?? defaults.auditQueueSize
        )
    }
}
