import GatewayCore

/// libFuzzer entry point: any accepted target normalises to a path that is already normal (the
/// upstream and routing see the same thing however often it is normalised) and holds none of
/// what the normaliser promises to remove.
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
    return 0
}
