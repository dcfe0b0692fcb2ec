import Logging
import Synchronization

/// The lowest level the log writes, shared by every ``LineLogHandler``: a reload changes it for all
/// of them at once.
public final class LogLevelSetting: Sendable {
    private static let levels = Logger.Level.allCases
    private let index: Atomic<Int>

    public init(_ level: Logger.Level) {
        index = Atomic(Self.levels.firstIndex(of: level)!)
    }

    /// The level in force.
    public var level: Logger.Level {
        get { Self.levels[index.load(ordering: .relaxed)] }
        set { index.store(Self.levels.firstIndex(of: newValue)!, ordering: .relaxed) }
    }
}
