/// Lets a few callers at a time through, the others wait their turn.
///
/// Dozens of tests start at once; creating all their PostgreSQL databases together on a 2-core machine makes some
/// `CREATE DATABASE` statements outlast the statement timeout.
actor Gate {
    private let limit: Int
    private var inside = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(limit: Int) {
        self.limit = limit
    }

    /// `body`'s result, once fewer than `limit` other callers are inside.
    func pass<Value: Sendable>(_ body: @Sendable () async throws -> Value) async throws -> Value {
        if self.inside < self.limit {
            self.inside += 1
        } else {
            await withCheckedContinuation { self.waiting.append($0) }
        }
        defer {
            if self.waiting.isEmpty { self.inside -= 1 } else { self.waiting.removeFirst().resume() }
        }
        return try await body()
    }
}
