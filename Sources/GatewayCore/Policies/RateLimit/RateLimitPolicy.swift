import Foundation

/// A rate policy compiled for the limiter: GCRA parameters in nanoseconds, and its stable identity.
public struct RateLimitPolicy: Sendable, Equatable {
    /// Identity of its counters in memory and in the store: scope, period and key, but not the
    /// limit, so raising or lowering a limit keeps everyone's consumption.
    public let id: String
    /// How `RateLimit` headers and audit events name it, e.g. `50/hour` or `10/minute by ip`.
    public let name: String
    public let limit: Int
    public let key: RateLimitKey
    public let mode: RateLimitMode
    /// The window, and the time one request's share of it takes to come back (`period / limit`).
    let period: Int64
    let emission: Int64

    /// `scope` is `default` for `[rate_limit] default`, else the route it belongs to.
    public init(_ config: RatePolicyConfig, scope: String) {
        id = "\(scope)|\(config.period.seconds)|\(config.key)"
        name = config.rate + (config.key == .subjectOrIP ? "" : " by \(config.key)") + (config.mode == .shadow ? " (shadow)" : "")
        limit = config.limit
        key = config.key
        mode = config.mode
        period = config.period.seconds * 1_000_000_000
        emission = period / Int64(config.limit)
    }

    /// The window in whole seconds, as `RateLimit-Policy` states it.
    var windowSeconds: Int64 { period / 1_000_000_000 }

    /// The scope of the shared `[rate_limit] default` policies.
    static let defaultScope = "default"

    /// The scope of a route's own policies: its path and methods, which survive reordering the file.
    static func scope(of route: RouteConfig) -> String {
        "route \(route.path)" + (route.methods.map { " " + $0.joined(separator: ",") } ?? "")
    }

    /// Every policy `config` counts with, each once.
    public static func all(in config: GatewayConfig) -> [RateLimitPolicy] {
        var policies = config.rateLimit.defaultPolicies.map { RateLimitPolicy($0, scope: defaultScope) }
        for route in config.routes {
            policies += (route.rateLimit ?? []).map { RateLimitPolicy($0, scope: scope(of: route)) }
        }
        var seen = Set<String>()
        return policies.filter { seen.insert($0.id).inserted }
    }

    /// Requests admissible at once for a counter at `tat`, and nanoseconds until its quota is full.
    public func state(tat: Int64, now: Int64) -> (remaining: Int, fullIn: Int64) {
        guard tat > now else { return (limit, 0) }
        return (Int(max(period - (tat - now), 0) / emission), tat - now)
    }
}

/// The generic cell rate algorithm over one counter: its whole state is the theoretical arrival
/// time (`tat`), the instant at which the counter would be back to its full quota.
///
/// A request at `now` is admitted when, after adding its share (`emission`), the counter is
/// ahead of `now` by at most `period`: so a burst of exactly `limit` requests passes at once, and
/// the quota then comes back one request every `period / limit`. There is no estimate involved;
/// the decision is exact for that definition. Any window of length `period` admits at most
/// `2 × limit − 1` requests (a full burst at its start plus the refill during it); a client
/// that keeps going gets `limit` per `period`.
enum GCRA {
    struct Outcome: Equatable {
        let admitted: Bool
        /// The new `tat` when admitted, else unchanged.
        let tat: Int64
        /// Requests still admissible at once after this one.
        let remaining: Int
        /// Nanoseconds until the quota is full again.
        let reset: Int64
        /// Nanoseconds until a refused request would be admitted; 0 when admitted.
        let retryAfter: Int64
    }

    static func check(tat: Int64, now: Int64, policy: RateLimitPolicy) -> Outcome {
        let next = max(tat, now) + policy.emission
        if next - now <= policy.period {
            let remaining = Int((policy.period - (next - now)) / policy.emission)
            return Outcome(admitted: true, tat: next, remaining: remaining, reset: next - now, retryAfter: 0)
        }
        return Outcome(admitted: false, tat: tat, remaining: 0, reset: max(tat - now, 0), retryAfter: next - policy.period - now)
    }
}

extension Date {
    /// Nanoseconds since 1970: the limiter's time scale (``RateLimitCounter/tat``).
    public var rateLimitNanoseconds: Int64 { Int64(timeIntervalSince1970 * 1e9) }
}
