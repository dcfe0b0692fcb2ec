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
    /// waiting: the file is opened non-blocking, so that a FIFO swapped in after the check cannot hang
    /// the reader either (it reads as empty).
    static func contents(of path: String, regularOnly: Bool = false) throws(ReadError) -> String {
        if regularOnly {
            // Links followed: a config file is often a link into a deployment's folder.
            let target = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
            guard (try? FileManager.default.attributesOfItem(atPath: target)[.type] as? FileAttributeType) == .typeRegular else {
                throw ReadError(message: "not a regular file")
            }
        }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | (regularOnly ? O_NONBLOCK : 0))
        guard descriptor >= 0 else { throw ReadError(message: "cannot open the file: \(lastErrorText())") }
        defer { close(descriptor) }
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
