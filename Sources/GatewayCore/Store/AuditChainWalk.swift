/// Walks audit rows in id order, from the retention checkpoint, and finds the first place
/// where the hash chain does not hold.
struct AuditChainWalk {
    private var expectedID: Int64
    private var previousHash: String
    private var count = 0

    /// Starts after the last pruned row (id 0 and the genesis hash when nothing was pruned).
    init(checkpointID: Int64, checkpointHash: String) {
        self.expectedID = checkpointID + 1
        self.previousHash = checkpointHash
    }

    /// Checks the next row: `fields` are all its columns but the hash, in ``AuditHash`` order;
    /// `previousHash` and `hash` are its stored links.
    mutating func check(
        id: Int64, fields: [AuditHash.Field], previousHash: AuditHash.Field, hash: AuditHash.Field
    ) -> AuditChainBreak? {
        if id < expectedID {
            return AuditChainBreak(rowID: id, reason: .brokenLink)
        }
        if id > expectedID {
            return AuditChainBreak(rowID: expectedID, reason: .missingRows(expectedID...(id - 1)))
        }
        let computed = AuditHash.hash(fields)
        guard hash == .text(computed) else {
            return AuditChainBreak(rowID: id, reason: .edited)
        }
        guard previousHash == .text(self.previousHash) else {
            return AuditChainBreak(rowID: id, reason: .brokenLink)
        }
        expectedID = id + 1
        self.previousHash = computed
        count += 1
        return nil
    }

    /// The verdict once every row was checked, against the head the store recorded when it
    /// last appended: rows deleted at the end, or added behind the store's back, break the chain.
    func finish(headID: Int64, headHash: String) -> AuditChainReport {
        let lastID = expectedID - 1
        if lastID < headID {
            return .broken(AuditChainBreak(rowID: expectedID, reason: .missingRows(expectedID...headID)))
        }
        if lastID > headID {
            return .broken(AuditChainBreak(rowID: headID + 1, reason: .brokenLink))
        }
        if previousHash != headHash {
            return .broken(AuditChainBreak(rowID: lastID, reason: .brokenLink))
        }
        return .intact(events: count)
    }
}
