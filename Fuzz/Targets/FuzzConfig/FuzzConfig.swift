import GatewayCore

/// libFuzzer entry point: the input as a config file: TOML parsing, decoding, validation and the
/// linter, which must answer with a config or a list of problems, never crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    do {
        _ = try ConfigLoader.parse(text: text, sourcePath: "/fuzz/gateway.conf")
    } catch {
        precondition(!error.problems.isEmpty, "refused without a problem")
    }
    return 0
}
