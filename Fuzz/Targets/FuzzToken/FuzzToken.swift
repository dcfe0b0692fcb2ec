import FuzzSupport
import NIOHTTP1

/// libFuzzer entry point: the input as a bearer token on a route that requires one, through the
/// token checks that come before and around the signature (header and claims decoding, `alg`,
/// `kid`, issuer selection).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let token = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let headers = HTTPHeaders([("Host", "api.example"), ("Authorization", "Bearer " + token), ("X-Client", "fuzz")])
    FuzzGateway.admit(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/api/items", headers: headers))
    return 0
}
