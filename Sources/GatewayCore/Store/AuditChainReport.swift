/// The outcome of ``GatewayStore/verifyAuditChain()``.
public enum AuditChainReport: Sendable, Equatable {
    /// Every row after the retention checkpoint matches its hash and links to the row before.
    case intact(events: Int)
    /// Where the chain first fails.
    case broken(AuditChainBreak)
}

/// The first place an audit chain does not hold, and why.
public struct AuditChainBreak: Sendable, Equatable, CustomStringConvertible {
    /// Why the chain breaks at ``rowID``.
    public enum Reason: Sendable, Equatable {
        /// The row's content no longer matches its hash.
        case edited
        /// These rows were deleted (the break is at the first of them).
        case missingRows(ClosedRange<Int64>)
        /// The row does not link to the hash of the row before it, or is not part of the chain.
        case brokenLink
    }

    /// The first row that fails, or the first missing row: its position in its node's chain.
    public var rowID: Int64
    public var reason: Reason
    /// The gateway whose chain breaks, in a shared PostgreSQL store.
    public var node: String?

    public init(rowID: Int64, reason: Reason, node: String? = nil) {
        self.rowID = rowID
        self.reason = reason
        self.node = node
    }

    public var description: String {
        guard let node else { return reasonDescription }
        return "node \(node): \(reasonDescription)"
    }

    private var reasonDescription: String {
        switch reason {
        case .edited:
            "row \(rowID) was edited: its content does not match its hash"
        case .missingRows(let rows) where rows.count == 1:
            "row \(rowID) is missing: it was deleted"
        case .missingRows(let rows):
            "rows \(rows.lowerBound)–\(rows.upperBound) are missing: they were deleted"
        case .brokenLink:
            "row \(rowID) does not link to the row before it"
        }
    }
}
