import Testing

@testable import GatewayCore

@Suite("LRU table")
struct LRUTableTests {
    @Test("evicts the least recently used entry when full; a use counts as recent")
    func evictsLeastRecentlyUsed() {
        var table = LRUTable<String, Int>(capacity: 3)
        for (index, key) in ["a", "b", "c"].enumerated() { #expect(table.insert(key, index).evicted == nil) }
        _ = table.use("a")
        let evicted = table.insert("d", 3).evicted
        #expect(evicted?.key == "b")
        #expect(table.count == 3)
        #expect(table.slot(of: "b") == nil)
        #expect(table.slot(of: "a").map { table[$0] } == 0)
        #expect(table.insert("e", 4).evicted?.key == "c")
    }

    @Test("removal frees a slot for reuse, and the oldest entries are listed in order")
    func removeAndOldest() {
        var table = LRUTable<String, Int>(capacity: 4)
        for (index, key) in ["a", "b", "c", "d"].enumerated() { _ = table.insert(key, index) }
        table.remove(at: table.slot(of: "b")!)
        #expect(table.count == 3)
        #expect(table.insert("e", 9).evicted == nil)
        #expect(table.oldestSlots(limit: 10, while: { $0 < 3 }).map { table.key(at: $0) } == ["a", "c"])
        #expect(table.oldestSlots(limit: 1, while: { _ in true }).map { table.key(at: $0) } == ["a"])
    }
}
