import Foundation

extension Date {
    /// Whole milliseconds since 1970 UTC: how the SQLite store keeps times, exact and sortable.
    var storeMilliseconds: Int64 {
        Int64((timeIntervalSince1970 * 1000).rounded(.down))
    }

    init(storeMilliseconds milliseconds: Int64) {
        self.init(timeIntervalSince1970: Double(milliseconds) / 1000)
    }
}
