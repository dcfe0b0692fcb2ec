import FuzzSupport

/// libFuzzer entry point: raw bytes through NIO's HTTP/1.1 decoder (with the gateway's limits),
/// then every head it accepts through the gateway's admission checks.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    for head in FuzzGateway.parseHeads(Array(UnsafeBufferPointer(start: data, count: size))) {
        FuzzGateway.admit(head)
    }
    return 0
}
