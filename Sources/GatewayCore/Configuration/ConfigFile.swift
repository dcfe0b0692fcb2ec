import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reading the config file from disk, with errors fit for an operator.
enum ConfigFile {
    struct ReadError: Error {
        var message: String
    }

    /// The file's contents as UTF-8 text. `regularOnly` refuses anything but a regular file, without
    /// waiting: a FIFO is opened non-blocking, so that a reader with no writer cannot hang it.
    static func contents(of path: String, regularOnly: Bool = false) throws(ReadError) -> String {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | (regularOnly ? O_NONBLOCK : 0))
        guard descriptor >= 0 else { throw ReadError(message: "cannot open the file: \(lastErrorText())") }
        defer { close(descriptor) }
        if regularOnly {
            var status = stat()
            guard fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
                throw ReadError(message: "not a regular file")
            }
        }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count == 0 { break }
            if count < 0 {
                if errno == EINTR { continue }
                throw ReadError(message: "cannot read the file: \(lastErrorText())")
            }
            bytes += chunk[..<count]
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ReadError(message: "the file is not valid UTF-8")
        }
        return text
    }

    private static func lastErrorText() -> String {
        String(cString: strerror(errno))
    }
}
