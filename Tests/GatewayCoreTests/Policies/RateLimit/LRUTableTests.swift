import Testing

@testable import GatewayCore

@Suite("LRU table")
struct LRUTableTests {
    static let unranked: @Sendable (Int) -> Int64 = { _ in 0 }

    @Test("evicts the least recently used of equally ranked entries when full; a use counts as recent")
    func evictsLeastRecentlyUsed() {
        var table = LRUTable<String, Int>(capacity: 3)
        for (index, key) in ["a", "b", "c"].enumerated() { #expect(table.insert(key, index, evictingLowest: Self.unranked).evicted == nil) }
        _ = table.use("a")
        let evicted = table.insert("d", 3, evictingLowest: Self.unranked).evicted
        #expect(evicted?.key == "b")
        #expect(table.count == 3)
        #expect(table.slot(of: "b") == nil)
        #expect(table.slot(of: "a").map { table[$0] } == 0)
        #expect(table.insert("e", 4, evictingLowest: Self.unranked).evicted?.key == "c")
    }

    @Test("evicts the lowest ranked among the 8 least recently used, never a newer one")
    func evictsLowestRankedOfTheOldest() {
        var table = LRUTable<String, Int>(capacity: 10)
        // Oldest first: ranks 50, 40, ..., and the lowest of all (1) is the 9th oldest.
        let ranks = [50, 40, 30, 20, 25, 35, 45, 15, 1, 60]
        for (index, rank) in ranks.enumerated() { _ = table.insert("k\(index)", rank, evictingLowest: { Int64($0) }) }
        #expect(table.insert("new", 99, evictingLowest: { Int64($0) }).evicted?.key == "k7", "rank 15, the lowest of the 8 oldest")
        #expect(table.insert("newer", 99, evictingLowest: { Int64($0) }).evicted?.key == "k8", "rank 1, now among the 8 oldest")
        #expect(table.insert("newest", 99, evictingLowest: { Int64($0) }).evicted?.key == "k3", "rank 20")
    }

    @Test("removal frees a slot for reuse, and the oldest entries are listed in order")
    func removeAndOldest() {
        var table = LRUTable<String, Int>(capacity: 4)
        for (index, key) in ["a", "b", "c", "d"].enumerated() { _ = table.insert(key, index, evictingLowest: Self.unranked) }
        table.remove(at: table.slot(of: "b")!)
        #expect(table.count == 3)
        #expect(table.insert("e", 9, evictingLowest: Self.unranked).evicted == nil)
        #expect(table.oldestSlots(limit: 10, while: { $0 < 3 }).map { table.key(at: $0) } == ["a", "c"])
        #expect(table.oldestSlots(limit: 1, while: { _ in true }).map { table.key(at: $0) } == ["a"])
    }
}
