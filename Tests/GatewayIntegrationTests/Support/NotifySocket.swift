import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// A unix datagram socket standing in for systemd's `$NOTIFY_SOCKET`: collects what the gateway sends.
final class NotifySocket: @unchecked Sendable {
    let path: String
    private let descriptor: Int32

    init(directory: URL) throws {
        path = directory.appendingPathComponent("notify.sock").path
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard descriptor >= 0, bound == 0 else { throw POSIXError(.EADDRINUSE) }
    }

    /// The next datagram, waiting up to `seconds` on a thread of its own; `nil` if none came.
    func receive(within seconds: Int) async -> String? {
        let descriptor = self.descriptor
        return await withCheckedContinuation { continuation in
            onOwnThread {
                var buffer = [UInt8](repeating: 0, count: 4096)
                for _ in 0..<seconds {
                    let count = recv(descriptor, &buffer, buffer.count, 0)
                    if count > 0 {
                        continuation.resume(returning: String(decoding: buffer[..<count], as: UTF8.self))
                        return
                    }
                }
                continuation.resume(returning: nil)
            }
        }
    }

    deinit { close(descriptor) }
}
