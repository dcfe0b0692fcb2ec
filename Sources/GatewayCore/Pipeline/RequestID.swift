import NIOPosix

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Request ids: 128 random bits each, as 32 lower-case hex digits.
///
/// The bits come from the kernel's generator (`getentropy`), 256 bytes at a time for each thread,
/// so an event loop makes one system call per 16 ids instead of two per id.
enum RequestID {
    /// This thread's unused random bytes; only its own thread uses it.
    private final class Pool: @unchecked Sendable {
        /// The most `getentropy` gives in one call.
        static let size = 256
        let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 8)
        var next = size

        deinit { bytes.deallocate() }

        /// The next 16 random bytes, drawing from the kernel when the pool is spent.
        func take16() -> (UInt64, UInt64) {
            if next == Self.size {
                precondition(getentropy(bytes.baseAddress!, Self.size) == 0, "getentropy failed: \(errno)")
                next = 0
            }
            defer { next += 16 }
            return (bytes.load(fromByteOffset: next, as: UInt64.self), bytes.load(fromByteOffset: next + 8, as: UInt64.self))
        }
    }

    private static let pools = ThreadSpecificVariable<Pool>()

    /// A new request id.
    static func generate() -> String {
        let pool: Pool
        if let current = pools.currentValue {
            pool = current
        } else {
            pool = Pool()
            pools.currentValue = pool
        }
        let (high, low) = pool.take16()
        return String(unsafeUninitializedCapacity: 32) { out in
            func writeHex(_ word: UInt64, at start: Int) {
                var bits = word
                for digit in (start..<start + 16).reversed() {
                    let nibble = UInt8(truncatingIfNeeded: bits & 0xF)
                    out[digit] = nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
                    bits >>= 4
                }
            }
            writeHex(high, at: 0)
            writeHex(low, at: 16)
            return 32
        }
    }
}
