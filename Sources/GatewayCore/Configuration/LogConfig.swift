import Logging

/// How log lines are written to stdout (for journald or a collector).
public enum LogFormat: String, Sendable, CaseIterable {
    /// `2026-11-29T11:00:00Z warning gateway: message key=value`, for people.
    case text
    /// One JSON object per line.
    case json
    /// `time=… level=… msg="…" key=value`, one line each.
    case logfmt
}

/// `[log]`: the format and level of the daemon's log, and the access log.
public struct LogConfig: Sendable, Equatable {
    /// Default `text`.
    public var format: LogFormat
    /// Lowest level written. Default `info`.
    public var level: Logger.Level
    /// One line per request at `info`. Default on.
    public var access: Bool

    public init(format: LogFormat = .text, level: Logger.Level = .info, access: Bool = true) {
        self.format = format
        self.level = level
        self.access = access
    }
}

extension LogConfig {
    /// The keys of `[log]`.
    enum Key: String, ConfigKeys {
        case format
        case level
        case access
    }

    init(decoding table: ConfigTable<Key>) {
        let defaults = LogConfig()
        self.init(
            format: table.choice(.format) ?? defaults.format,
            level: table.choice(.level) ?? defaults.level,
            access: table.bool(.access) ?? defaults.access
        )
    }
}
