extension Duration {
    /// The units a config duration may use, largest first, with their length in milliseconds.
    private static let configUnits: [(suffix: String, milliseconds: Int64)] = [
        ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1_000), ("ms", 1),
    ]

    /// Longest duration accepted: far beyond any sensible timeout or retention, far below what timers can represent.
    static let configMaximum = Duration.seconds(3650 * 86_400)

    /// What ``init(configValue:)`` accepts, for error messages.
    static let configFormat = #"a positive integer followed by ms, s, m, h or d, at most 3650d, e.g. "30s""#

    /// Parses a config duration: a positive integer followed by `ms`, `s`, `m`, `h` or `d`
    /// (`"500ms"`, `"30s"`, `"10m"`, `"24h"`, `"30d"`).
    ///
    /// Returns `nil` for zero, a missing or unknown unit, signs, fractions, spaces, or a value
    /// over ``configMaximum``.
    public init?(configValue text: String) {
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        let suffix = text[digits.endIndex...]
        guard
            let count = Int64(digits), count > 0,
            let unit = Self.configUnits.first(where: { $0.suffix == suffix })
        else { return nil }
        let (milliseconds, overflow) = count.multipliedReportingOverflow(by: unit.milliseconds)
        guard !overflow, Duration.milliseconds(milliseconds) <= Self.configMaximum else { return nil }
        self = .milliseconds(milliseconds)
    }

    /// The duration in config notation, in the largest unit that represents it exactly
    /// (`"365d"`, `"90s"`, `"1500ms"`); finer durations fall back to the standard description.
    public var configDescription: String {
        let (seconds, attoseconds) = components
        let attosecondsPerMillisecond: Int64 = 1_000_000_000_000_000
        guard
            attoseconds % attosecondsPerMillisecond == 0,
            case (let milliseconds, false) = seconds.multipliedReportingOverflow(by: 1_000),
            milliseconds > 0
        else { return description }
        let total = milliseconds + attoseconds / attosecondsPerMillisecond
        let unit = Self.configUnits.first { total % $0.milliseconds == 0 }!
        return "\(total / unit.milliseconds)\(unit.suffix)"
    }
}
