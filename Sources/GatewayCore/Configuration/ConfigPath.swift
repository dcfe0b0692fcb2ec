#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Lexical file path handling for paths named in the config file.
enum ConfigPath {
    /// The absolute directory that contains `file`; a relative `file` is taken from the
    /// current working directory.
    static func directory(of file: String) -> String {
        let absolute = resolve(file, against: currentDirectory())
        return resolve("..", against: absolute)
    }

    /// `path` if absolute, otherwise `path` below `directory`; `.` and `..` segments and
    /// repeated slashes are removed lexically (`..` never climbs above `/`).
    static func resolve(_ path: String, against directory: String) -> String {
        var segments: [Substring] = []
        let joined = path.hasPrefix("/") ? path : "\(directory)/\(path)"
        for segment in joined.split(separator: "/") {
            switch segment {
            case ".":
                continue
            case "..":
                _ = segments.popLast()
            default:
                segments.append(segment)
            }
        }
        return "/" + segments.joined(separator: "/")
    }

    private static func currentDirectory() -> String {
        guard let pointer = getcwd(nil, 0) else { return "/" }
        defer { free(pointer) }
        return String(cString: pointer)
    }
}
