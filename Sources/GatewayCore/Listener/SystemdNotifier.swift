import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Tells systemd how the daemon is doing (`sd_notify`): a datagram to `$NOTIFY_SOCKET` per state
/// change, e.g. `READY=1` or `STOPPING=1`. Without `$NOTIFY_SOCKET` (not under a `Type=notify`
/// unit, tests) it does nothing.
public struct SystemdNotifier: Sendable {
    /// The socket's path; `@` at the start names an abstract socket.
    let socketPath: String?

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        socketPath = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Sends `state` (newline-separated `KEY=value` assignments). Returns whether it was sent;
    /// systemd not listening is not an error worth stopping for.
    @discardableResult
    public func notify(_ state: String) -> Bool {
        guard let socketPath else { return false }
        #if canImport(Darwin)
            let descriptor = socket(AF_UNIX, SOCK_DGRAM, 0)
        #else
            let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        #endif
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var path = Array(socketPath.utf8)
        if path.first == UInt8(ascii: "@") { path[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard path.count < capacity else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            buffer.copyBytes(from: path)
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + path.count + (path.first == 0 ? 0 : 1))
        let bytes = Array(state.utf8)
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                // Never waits: a notification dropped because the reader's queue is full (10 datagrams
                // by default) is better than a gateway that cannot stop.
                sendto(descriptor, bytes, bytes.count, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT), socketAddress, length)
            }
        }
        return sent == bytes.count
    }
}

/// The listening sockets systemd passes on socket activation (`sd_listen_fds`): descriptors 3, 4, …
/// counted by `$LISTEN_FDS`, when `$LISTEN_PID` is this process.
public enum SystemdSockets {
    public static func listeners(environment: [String: String] = ProcessInfo.processInfo.environment) -> [CInt] {
        guard let pid = environment["LISTEN_PID"], pid == String(getpid()),
            let count = environment["LISTEN_FDS"].flatMap(Int32.init), count > 0, count < 64
        else { return [] }
        return (0..<count).map { 3 + $0 }
    }
}
