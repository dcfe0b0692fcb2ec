import GatewayCore

/// libFuzzer entry point: any accepted target normalises to a path that is already normal (the
/// upstream and routing see the same thing however often it is normalised) and holds none of
/// what the normaliser promises to remove; its escapes decode to well-formed UTF-8.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let target = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let normal = try? PathNormalizer.normalize(target) else { return 0 }
    guard let again = try? PathNormalizer.normalize(normal.uri), again == normal else {
        fatalError("not idempotent: \(target.debugDescription) → \(normal.uri.debugDescription)")
    }
    let segments = normal.path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
    precondition(normal.path.hasPrefix("/"), "no leading slash")
    precondition(!segments.dropLast().contains(""), "empty segment in \(normal.path.debugDescription)")
    precondition(!segments.contains("..") && !segments.contains("."), "dot-segment in \(normal.path.debugDescription)")
    precondition(!normal.path.utf8.contains { $0 < 0x21 || $0 == 0x7F || $0 == UInt8(ascii: "\\") }, "control byte or backslash")
    precondition(String(validating: decodingEscapes(normal.path), as: UTF8.self) != nil, "escapes that are not UTF-8")
    return 0
}

/// `path` with every `%XX` decoded, written independently of the normaliser.
func decodingEscapes(_ path: String) -> [UInt8] {
    let bytes = Array(path.utf8)
    var decoded: [UInt8] = []
    var index = 0
    while index < bytes.count {
        if bytes[index] == UInt8(ascii: "%"), index + 2 < bytes.count,
            let value = UInt8(String(decoding: bytes[(index + 1)...(index + 2)], as: UTF8.self), radix: 16)
        {
            decoded.append(value)
            index += 3
        } else {
            decoded.append(bytes[index])
            index += 1
        }
    }
    return decoded
}
