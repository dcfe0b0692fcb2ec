/// A number of bytes, written in config files as an integer with a binary unit:
/// `"512B"`, `"16KiB"`, `"1MiB"`, `"2GiB"`.
public struct ByteSize: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The units a size may use, largest first.
    private static let units: [(suffix: String, bytes: Int64)] = [
        ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10), ("B", 1),
    ]

    /// What ``init(configValue:)`` accepts, for error messages.
    static let configFormat = #"an integer followed by B, KiB, MiB or GiB, e.g. "16KiB""#

    public var bytes: Int64

    public init(bytes: Int64) {
        self.bytes = bytes
    }

    /// Parses an integer followed by `B`, `KiB`, `MiB` or `GiB`. Units are case-sensitive and
    /// binary; decimal units (`KB`), bare integers, signs, fractions and spaces are refused.
    public init?(configValue text: String) {
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        let suffix = text[digits.endIndex...]
        guard
            let count = Int64(digits),
            let unit = Self.units.first(where: { $0.suffix == suffix })
        else { return nil }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: unit.bytes)
        guard !overflow else { return nil }
        self.bytes = bytes
    }

    /// The size in the largest unit that represents it exactly: `"16KiB"`, `"1536B"`.
    public var description: String {
        let unit = Self.units.first { bytes != 0 && bytes % $0.bytes == 0 } ?? Self.units[Self.units.count - 1]
        return "\(bytes / unit.bytes)\(unit.suffix)"
    }

    public static func < (lhs: ByteSize, rhs: ByteSize) -> Bool {
        lhs.bytes < rhs.bytes
    }
}
