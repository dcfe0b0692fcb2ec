import Crypto

/// The tamper-evidence hash of one audit row: SHA-256 over an unambiguous encoding of every
/// column of the row, the previous row's hash first.
///
/// Each field is a type tag, then for text a 4-byte big-endian length and the UTF-8 bytes, and
/// for numbers 8 big-endian bytes; so no two different rows encode to the same bytes. A value of
/// a type the store never writes (put there by hand) is encoded with its own tag and never matches.
enum AuditHash {
    /// One column value, as stored.
    enum Field: Equatable {
        case null
        case integer(Int64)
        case text(String)
        case real(Double)
        case blob([UInt8])
    }

    /// The previous hash of the first row ever appended.
    static let genesis = String(repeating: "0", count: 64)

    /// The hash of a row whose columns, in their fixed order, are `fields`; lower-case hex.
    static func hash(_ fields: [Field]) -> String {
        var hasher = SHA256()
        for field in fields {
            hasher.update(data: encode(field))
        }
        return hasher.finalize().hexString
    }

    private static func encode(_ field: Field) -> [UInt8] {
        switch field {
        case .null:
            [0]
        case .integer(let value):
            [1] + bigEndianBytes(UInt64(bitPattern: value))
        case .text(let text):
            [2] + bigEndianBytes(UInt32(text.utf8.count)) + Array(text.utf8)
        case .real(let value):
            [3] + bigEndianBytes(value.bitPattern)
        case .blob(let bytes):
            [4] + bigEndianBytes(UInt32(bytes.count)) + bytes
        }
    }

    private static func bigEndianBytes<Integer: FixedWidthInteger>(_ value: Integer) -> [UInt8] {
        withUnsafeBytes(of: value.bigEndian, Array.init)
    }
}
