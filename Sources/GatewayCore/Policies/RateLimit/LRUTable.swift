/// A map of at most `capacity` entries that evicts one of the least recently used to make room.
///
/// Every operation is O(1): the entries sit in flat arrays linked into a recency list by index, so
/// a lookup or an update allocates nothing once the table has grown.
struct LRUTable<Key: Hashable, Value> {
    private struct Node {
        var key: Key
        var value: Value
        var newer: Int32
        var older: Int32
    }

    private static var none: Int32 { -1 }

    let capacity: Int
    private var nodes: [Node] = []
    private var slots: [Key: Int32] = [:]
    private var freeSlots: [Int32] = []
    private var newest = LRUTable.none
    private var oldest = LRUTable.none

    init(capacity: Int) {
        precondition(capacity > 0)
        self.capacity = capacity
    }

    var count: Int { slots.count }

    /// The slot of `key`, marked as the most recently used.
    mutating func use(_ key: Key) -> Int32? {
        guard let slot = slots[key] else { return nil }
        moveToNewest(slot)
        return slot
    }

    /// The slot of `key` without touching its recency.
    func slot(of key: Key) -> Int32? { slots[key] }

    subscript(slot: Int32) -> Value {
        get { nodes[Int(slot)].value }
        set { nodes[Int(slot)].value = newValue }
    }

    func key(at slot: Int32) -> Key { nodes[Int(slot)].key }

    /// Least recently used entries among which an insert into a full table picks the one to evict.
    static var evictionCandidates: Int { 8 }

    /// Adds `key` as the most recently used and returns its slot. When the table is full, it first
    /// evicts, among the ``evictionCandidates`` least recently used entries, the one `rank` puts
    /// lowest (the older of two equal), and returns it too. `key` must not be present.
    mutating func insert(
        _ key: Key, _ value: Value, evictingLowest rank: (Value) -> Int64
    ) -> (slot: Int32, evicted: (key: Key, value: Value)?) {
        var evicted: (key: Key, value: Value)?
        if slots.count >= capacity, oldest != Self.none {
            var victim = oldest
            var candidate = nodes[Int(oldest)].newer
            for _ in 1..<Self.evictionCandidates where candidate != Self.none {
                if rank(nodes[Int(candidate)].value) < rank(nodes[Int(victim)].value) { victim = candidate }
                candidate = nodes[Int(candidate)].newer
            }
            evicted = (nodes[Int(victim)].key, nodes[Int(victim)].value)
            remove(at: victim)
        }
        let node = Node(key: key, value: value, newer: Self.none, older: newest)
        let slot: Int32
        if let free = freeSlots.popLast() {
            slot = free
            nodes[Int(slot)] = node
        } else {
            slot = Int32(nodes.count)
            nodes.append(node)
        }
        if newest != Self.none { nodes[Int(newest)].newer = slot }
        newest = slot
        if oldest == Self.none { oldest = slot }
        slots[key] = slot
        return (slot, evicted)
    }

    /// Removes the entry in `slot`.
    mutating func remove(at slot: Int32) {
        unlink(slot)
        slots[nodes[Int(slot)].key] = nil
        freeSlots.append(slot)
    }

    /// The least recently used entries, oldest first, while `predicate` holds for them, at most `limit`.
    func oldestSlots(limit: Int, while predicate: (Value) -> Bool) -> [Int32] {
        var result: [Int32] = []
        var slot = oldest
        while slot != Self.none, result.count < limit, predicate(nodes[Int(slot)].value) {
            result.append(slot)
            slot = nodes[Int(slot)].newer
        }
        return result
    }

    /// Every occupied slot, in no particular order.
    var occupiedSlots: Dictionary<Key, Int32>.Values { slots.values }

    private mutating func moveToNewest(_ slot: Int32) {
        guard slot != newest else { return }
        unlink(slot)
        nodes[Int(slot)].older = newest
        nodes[Int(slot)].newer = Self.none
        if newest != Self.none { nodes[Int(newest)].newer = slot }
        newest = slot
        if oldest == Self.none { oldest = slot }
    }

    private mutating func unlink(_ slot: Int32) {
        let node = nodes[Int(slot)]
        if node.newer != Self.none { nodes[Int(node.newer)].older = node.older } else { newest = node.older }
        if node.older != Self.none { nodes[Int(node.older)].newer = node.newer } else { oldest = node.newer }
        nodes[Int(slot)].newer = Self.none
        nodes[Int(slot)].older = Self.none
    }
}
