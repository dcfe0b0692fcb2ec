import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A loopback TCP port that is bound but not listening: connecting to it is refused, and no other
/// test can bind it while this value lives (unlike a port that was merely closed).
final class RefusingPort {
    let port: Int
    private let descriptor: Int32

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        // sockaddr_in for 127.0.0.1 port 0, byte by byte: family (host order), port, address (network order).
        var address: [UInt8] = [UInt8(AF_INET), 0, 0, 0, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]
        var length = socklen_t(address.count)
        let bound = address.withUnsafeMutableBytes { raw in
            let socketAddress = raw.baseAddress!.assumingMemoryBound(to: sockaddr.self)
            return bind(descriptor, socketAddress, length) == 0 && getsockname(descriptor, socketAddress, &length) == 0
        }
        guard bound else {
            close(descriptor)
            throw POSIXError(.EADDRNOTAVAIL)
        }
        self.descriptor = descriptor
        port = Int(address[2]) << 8 | Int(address[3])
    }

    deinit { close(descriptor) }
}
