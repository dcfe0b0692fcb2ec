/// The `RateLimit-Policy` and `RateLimit` fields of draft-ietf-httpapi-ratelimit-headers: a list
/// item per enforced policy, named by ``RateLimitPolicy/name``.
///
/// `RateLimit-Policy: "50/hour";q=50;w=3600` states the quota and window; `RateLimit:
/// "50/hour";r=49;t=72` the requests remaining now and the seconds until the quota is full again.
enum RateLimitHeaders {
    /// `RateLimit-Policy` for `policies`, `nil` when none is enforced (shadow policies are not shown).
    static func policyField(_ policies: [RateLimitPolicy]) -> String? {
        let items = policies.filter { $0.mode == .enforce }.map { "\"\($0.name)\";q=\($0.limit);w=\($0.windowSeconds)" }
        return items.isEmpty ? nil : items.joined(separator: ", ")
    }

    /// `RateLimit` for the enforced policies' verdicts.
    static func stateField(_ verdicts: [RateLimiter.Verdict]) -> String? {
        let items = verdicts.filter { $0.policy.mode == .enforce }.map {
            "\"\($0.policy.name)\";r=\($0.outcome.remaining);t=\(seconds($0.outcome.reset))"
        }
        return items.isEmpty ? nil : items.joined(separator: ", ")
    }

    /// Whole seconds, rounded up: a client that waits that long is never early.
    static func seconds(_ nanoseconds: Int64) -> Int64 {
        nanoseconds <= 0 ? 0 : (nanoseconds + 999_999_999) / 1_000_000_000
    }
}
