extension Duration {
    /// Parses a lifetime written as a positive whole number and a unit: "90s", "30m", "24h" or "7d".
    ///
    /// Returns nil for anything else, including zero, negative numbers and missing units.
    public init?(lifetime text: String) {
        guard let unit = text.last, let count = Int64(text.dropLast()), count > 0 else { return nil }
        let secondsPerUnit: Int64
        switch unit {
        case "s": secondsPerUnit = 1
        case "m": secondsPerUnit = 60
        case "h": secondsPerUnit = 60 * 60
        case "d": secondsPerUnit = 24 * 60 * 60
        default: return nil
        }
        let (seconds, overflow) = count.multipliedReportingOverflow(by: secondsPerUnit)
        guard !overflow else { return nil }
        self = .seconds(seconds)
    }
}
