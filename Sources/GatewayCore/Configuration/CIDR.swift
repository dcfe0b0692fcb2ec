import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// An IPv4 or IPv6 network in CIDR notation, such as `10.0.0.0/8` or `fd00::/8`.
///
/// Built once from config; ``contains(_:)`` is meant for the hot path and does no string work
/// and no allocation. An IPv4 network also contains IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`)
/// of its range, as a dual-stack listener reports IPv4 peers that way. An IPv6 network never
/// contains a plain IPv4 address.
public struct CIDR: Sendable, Hashable, CustomStringConvertible {
    private enum Network: Sendable, Hashable {
        case v4(address: UInt32, mask: UInt32)
        case v6(high: UInt64, low: UInt64, maskHigh: UInt64, maskLow: UInt64)
    }

    /// Where the address bytes sit in `sockaddr_in` and `sockaddr_in6`: after the family and
    /// port (and for IPv6 the flow label), the same on Linux and the BSDs. Read as raw bytes
    /// because NIOCore's socket address structs do not make their C fields visible here.
    private static let ipv4AddressOffset = 4
    private static let ipv6AddressOffset = 8

    private let network: Network
    /// The number of leading bits that are fixed: 0...32 for IPv4, 0...128 for IPv6.
    public let prefixLength: Int

    /// Parses `address/prefix`, or a bare address meaning `/32` (IPv4) or `/128` (IPv6).
    ///
    /// Host bits beyond the prefix are allowed and masked away. Returns `nil` for anything that is
    /// not an address `inet_pton` accepts, or a prefix longer than the address family allows.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        let addressText = String(parts[0])
        let prefixText = parts.count == 2 ? parts[1] : nil
        if let prefixText, prefixText.isEmpty || prefixText.count > 3 || !prefixText.allSatisfy(\.isASCIIDigit) {
            return nil
        }
        if let bytes = Self.addressBytes(addressText, family: AF_INET) {
            let prefix = prefixText.flatMap { Int($0) } ?? 32
            guard prefix <= 32 else { return nil }
            let mask = Self.mask32(prefix)
            self.network = .v4(address: Self.loadUInt32(bytes, at: 0) & mask, mask: mask)
            self.prefixLength = prefix
        } else if let bytes = Self.addressBytes(addressText, family: AF_INET6) {
            let prefix = prefixText.flatMap { Int($0) } ?? 128
            guard prefix <= 128 else { return nil }
            let maskHigh = Self.mask64(prefix)
            let maskLow = Self.mask64(prefix - 64)
            self.network = .v6(
                high: Self.loadUInt64(bytes, at: 0) & maskHigh,
                low: Self.loadUInt64(bytes, at: 8) & maskLow,
                maskHigh: maskHigh,
                maskLow: maskLow
            )
            self.prefixLength = prefix
        } else {
            return nil
        }
    }

    /// Whether the peer address lies in this network. Unix domain sockets never do.
    public func contains(_ address: SocketAddress) -> Bool {
        switch address {
        case .v4(let v4):
            return withUnsafeBytes(of: v4.address) { raw in
                contains(ipv4: UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: Self.ipv4AddressOffset, as: UInt32.self)))
            }
        case .v6(let v6):
            return withUnsafeBytes(of: v6.address) { raw in
                contains(
                    ipv6High: UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: Self.ipv6AddressOffset, as: UInt64.self)),
                    low: UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: Self.ipv6AddressOffset + 8, as: UInt64.self))
                )
            }
        case .unixDomainSocket:
            return false
        }
    }

    /// Whether the address given as 4 (IPv4) or 16 (IPv6) bytes in network order lies in this
    /// network. Any other length never does.
    public func contains(ipBytes: [UInt8]) -> Bool {
        switch ipBytes.count {
        case 4:
            return contains(ipv4: Self.loadUInt32(ipBytes, at: 0))
        case 16:
            return contains(ipv6High: Self.loadUInt64(ipBytes, at: 0), low: Self.loadUInt64(ipBytes, at: 8))
        default:
            return false
        }
    }

    /// The network in canonical form, with host bits cleared: `10.0.0.0/8`, `fd00::/8`.
    public var description: String {
        var bytes: [UInt8]
        let family: Int32
        switch network {
        case .v4(let address, _):
            bytes = Self.bigEndianBytes(of: address)
            family = AF_INET
        case .v6(let high, let low, _, _):
            bytes = Self.bigEndianBytes(of: high) + Self.bigEndianBytes(of: low)
            family = AF_INET6
        }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(family, &bytes, &buffer, socklen_t(buffer.count)) != nil else {
            return "<invalid>/\(prefixLength)"
        }
        let text = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return "\(text)/\(prefixLength)"
    }

    private func contains(ipv4: UInt32) -> Bool {
        switch network {
        case .v4(let address, let mask):
            return ipv4 & mask == address
        case .v6:
            return false
        }
    }

    private func contains(ipv6High high: UInt64, low: UInt64) -> Bool {
        switch network {
        case .v4:
            let isIPv4Mapped = high == 0 && low >> 32 == 0xffff
            return isIPv4Mapped && contains(ipv4: UInt32(truncatingIfNeeded: low))
        case .v6(let networkHigh, let networkLow, let maskHigh, let maskLow):
            return high & maskHigh == networkHigh && low & maskLow == networkLow
        }
    }

    /// The leading `prefix` bits set, clamped to 0...32.
    private static func mask32(_ prefix: Int) -> UInt32 {
        prefix <= 0 ? 0 : prefix >= 32 ? .max : ~(UInt32.max >> UInt32(prefix))
    }

    /// The leading `prefix` bits set, clamped to 0...64.
    private static func mask64(_ prefix: Int) -> UInt64 {
        prefix <= 0 ? 0 : prefix >= 64 ? .max : ~(UInt64.max >> UInt64(prefix))
    }

    /// The bytes of an IP address literal of `family` (`AF_INET` or `AF_INET6`), padded to 16.
    static func addressBytes(_ text: String, family: Int32) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: 16)
        return inet_pton(family, text, &bytes) == 1 ? bytes : nil
    }

    private static func loadUInt32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        bytes.withUnsafeBytes { UInt32(bigEndian: $0.loadUnaligned(fromByteOffset: offset, as: UInt32.self)) }
    }

    private static func loadUInt64(_ bytes: [UInt8], at offset: Int) -> UInt64 {
        bytes.withUnsafeBytes { UInt64(bigEndian: $0.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) }
    }

    private static func bigEndianBytes(of value: some FixedWidthInteger) -> [UInt8] {
        withUnsafeBytes(of: value.bigEndian) { Array($0) }
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}

extension CIDR {
    /// What a per-client counter keys `address` by: an IPv4 (or IPv4-mapped) address itself, an
    /// IPv6 address by its network of `ipv6Prefix` bits, since one host usually has a whole /64.
    static func clientKey(_ address: String, ipv6Prefix: Int) -> String {
        guard ipv6Prefix < 128, address.contains(":"), !address.contains("."), let network = CIDR("\(address)/\(ipv6Prefix)")
        else { return address }
        return network.description
    }
}

extension CIDR {
    /// A network of clients from config: an address or a network. `/0`, every address, is refused:
    /// a list of allowed clients that allows every client is a mistake.
    static func parseClientNetwork(_ text: String) throws(ConfigValueProblem) -> CIDR {
        guard let cidr = CIDR(text), cidr.prefixLength > 0 else {
            throw ConfigValueProblem(
                "invalid client network \(text.quotedForConfig)", allowed: #"an address or network, e.g. "10.1.0.0/16""#)
        }
        return cidr
    }
}
