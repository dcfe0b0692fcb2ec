import Foundation

extension Date {
    /// This date moved forward by `duration`, or back when it is negative.
    public func adding(_ duration: Duration) -> Date {
        let (seconds, attoseconds) = duration.components
        return addingTimeInterval(TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18)
    }
}
