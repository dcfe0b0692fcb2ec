import GatewayCore
import Testing

@Suite("Config [store]")
struct StoreConfigTests {
    @Test("defaults to the systemd state directory, 30 days, a 10000-event queue that drops")
    func defaults() throws {
        let store = try ConfigFixture.config("").store
        #expect(store.path == "/var/lib/gateway/gateway.sqlite")
        #expect(store.auditRetention == .seconds(30 * 86_400))
        #expect(store.auditQueueSize == 10_000)
        #expect(store.onAuditOverflow == .drop)
    }

    @Test("reads every key, resolving a relative path against the config file's directory")
    func everyKey() throws {
        let store = try ConfigFixture.config(
            """
            [store]
            path = "state/../state/gateway.sqlite"
            audit_retention = "7d"
            on_audit_overflow = "block"
            audit_queue_size = 500
            """
        ).store
        #expect(store.path == "/srv/state/gateway.sqlite")
        #expect(store.auditRetention == .seconds(7 * 86_400))
        #expect(store.onAuditOverflow == .block)
        #expect(store.auditQueueSize == 500)
    }

    @Test("keeps an absolute path as it is")
    func absolutePath() throws {
        let store = try ConfigFixture.config("[store]\npath = \"/data/gw.sqlite\"").store
        #expect(store.path == "/data/gw.sqlite")
    }

    @Test("rejects an empty path and a malformed retention")
    func emptyPathAndBadRetention() {
        let problems = ConfigFixture.problems(
            """
            [store]
            path = ""
            audit_retention = "1 month"
            """)
        #expect(
            problems == [
                "/srv/gw.conf:2: store.path: must not be empty",
                #"/srv/gw.conf:3: store.audit_retention: invalid duration "1 month" (allowed: a positive integer followed by ms, s, m, h or d, at most 3650d, e.g. "30s")"#,
            ])
    }

    @Test("rejects an overflow policy other than drop or block")
    func unknownOverflowPolicy() {
        let problems = ConfigFixture.problems("[store]\non_audit_overflow = \"wait\"")
        #expect(problems == [#"/srv/gw.conf:2: store.on_audit_overflow: unsupported value "wait" (allowed: drop, block)"#])
    }

    @Test("rejects a queue size outside 100..1000000", arguments: [99, 1_000_001])
    func queueSizeRange(size: Int) {
        let problems = ConfigFixture.problems("[store]\naudit_queue_size = \(size)")
        #expect(problems == ["/srv/gw.conf:2: store.audit_queue_size: \(size) is out of range (allowed: 100..1000000)"])
    }

    @Test("rejects unknown keys, listing the ones it accepts")
    func unknownKey() {
        let problems = ConfigFixture.problems("[store]\nuri = \"postgres://gateway@db/gateway\"")
        #expect(
            problems == [
                "/srv/gw.conf:2: store.uri: unknown key (allowed: path, url, password_file, connect_timeout, statement_timeout, pool_size, audit_retention, on_audit_overflow, audit_queue_size, sync_interval, on_store_loss)"
            ])
    }
}
