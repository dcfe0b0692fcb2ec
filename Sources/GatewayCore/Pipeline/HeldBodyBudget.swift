import Synchronization

/// The request bytes every connection together may hold in memory at once: held bodies are
/// reserved here before they are read (by their `Content-Length`, or as a chunked body grows), and
/// given back when forwarded or dropped. Gateway-wide, so a lock-free counter.
final class HeldBodyBudget: Sendable {
    private let limit: Atomic<Int>
    private let held = Atomic<Int>(0)
    private let refused = Atomic<Int>(0)

    init(limit: Int64) { self.limit = Atomic(Int(clamping: limit)) }

    /// Takes up a reloaded `held_body_budget`; what is held beyond a lowered one stays held.
    func setLimit(_ limit: Int64) { self.limit.store(Int(clamping: limit), ordering: .relaxed) }

    /// Bytes reserved right now.
    var heldBytes: Int { held.load(ordering: .relaxed) }

    /// Reservations refused since start.
    var refusals: Int { refused.load(ordering: .relaxed) }

    /// Reserves `bytes`, or refuses (and counts the refusal) when that would go beyond the budget.
    func reserve(_ bytes: Int) -> Bool {
        let limit = limit.load(ordering: .relaxed)
        var current = held.load(ordering: .relaxed)
        while true {
            guard current + bytes <= limit else {
                refused.add(1, ordering: .relaxed)
                return false
            }
            let (exchanged, original) = held.compareExchange(
                expected: current, desired: current + bytes, successOrdering: .relaxed, failureOrdering: .relaxed)
            if exchanged { return true }
            current = original
        }
    }

    /// Gives back `bytes` reserved earlier.
    func release(_ bytes: Int) {
        held.subtract(bytes, ordering: .relaxed)
    }
}
