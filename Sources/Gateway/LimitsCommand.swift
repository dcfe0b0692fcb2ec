import ArgumentParser
import Foundation
import GatewayCore

extension GatewayCommand {
    struct Limits: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show or reset the rate limit counters of one client.",
            discussion: """
                KEY names the counters as the gateway keys them: ip:ADDRESS (an IPv6 client by its network, \
                e.g. ip:2001:db8:1:2::/64), sub:SUBJECT@ISSUER (sub:SUBJECT for tokens without iss), \
                header:NAME=VALUE or claim:NAME=VALUE (whose values the gateway keeps only as fingerprints). \
                Counters are read from the store, which a running gateway writes every store.sync_interval.
                """,
            subcommands: [Show.self, Reset.self]
        )
    }
}

/// The `--key` option both subcommands take.
struct CounterKeyOption: ParsableArguments {
    @Option(help: ArgumentHelp("The counters' key, e.g. ip:203.0.113.7 or sub:42@userservice.", valueName: "key"))
    var key: String

    /// The key as stored.
    var counterKey: String {
        get throws {
            guard let key = RateLimitKeying.counterKey(operatorInput: key) else {
                throw ValidationError("--key must be ip:ADDRESS, sub:SUBJECT[@ISSUER], header:NAME=VALUE or claim:NAME=VALUE.")
            }
            return key
        }
    }
}

extension GatewayCommand.Limits {
    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print each policy's remaining quota for a key.",
            discussion: "A key without stored counters has every quota full. Exits 0 either way."
        )

        @OptionGroup var options: ConfigOption
        @OptionGroup var key: CounterKeyOption

        func run() async throws {
            let config = try ConfigCheck.loadConfig(path: options.config)
            let key = try key.counterKey
            let store = try await options.openStore(mustExist: true)
            let now = Date().rateLimitNanoseconds
            let counters = try await store.rateLimitCounters(now: now, key: key)
            let policies = Dictionary(RateLimitPolicy.all(in: config).map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
            print("counters of \(Console.printable(key)): \(counters.isEmpty ? "none, every quota is full" : "\(counters.count)")")
            for counter in counters.sorted(by: { $0.policy < $1.policy }) {
                guard let policy = policies[counter.policy] else {
                    print("  \(Console.printable(counter.policy)): no longer configured")
                    continue
                }
                let state = policy.state(tat: counter.tat, now: now)
                let seconds = (state.fullIn + 999_999_999) / 1_000_000_000
                print("  \(policy.name) [\(policy.id)]: \(state.remaining) of \(policy.limit) left, full again in \(seconds) s")
            }
        }
    }

    struct Reset: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Give a key every quota back.",
            discussion: """
                Deletes the key's counters from the store and records the reset, which a running gateway \
                applies within store.sync_interval; a rate_limit_reset audit event is recorded.
                """
        )

        @OptionGroup var options: ConfigOption
        @OptionGroup var key: CounterKeyOption

        func run() async throws {
            let key = try key.counterKey
            let store = try await options.openStore(mustExist: false)
            let now = Date.now
            let deleted = try await store.resetRateLimits(key: key, at: now)
            try await store.appendAudit([
                AuditEvent(time: now, type: .rateLimitReset, reason: "counters of \(key) reset by operator")
            ])
            print(
                "reset \(Console.printable(key)): \(deleted) counter\(deleted == 1 ? "" : "s") deleted; a running gateway applies it within 1 s"
            )
        }
    }
}
