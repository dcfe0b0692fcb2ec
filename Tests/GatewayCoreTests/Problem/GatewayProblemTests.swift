import Foundation
import NIOCore
import Testing

@testable import GatewayCore

@Suite("Problem details")
struct GatewayProblemTests {
    @Test("renders RFC 9457 problem+json with code and request id")
    func rendersJSON() throws {
        let body = GatewayProblem.pathRejected("encoded slash in path").body(requestID: "r\"1", allocator: ByteBufferAllocator())
        let object = try #require(try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any])
        #expect(object["type"] as? String == "urn:gateway:problem:path_rejected")
        #expect(object["title"] as? String == "Bad Request")
        #expect(object["status"] as? Int == 400)
        #expect(object["detail"] as? String == "The request path was rejected: encoded slash in path.")
        #expect(object["code"] as? String == "path_rejected")
        #expect(object["request_id"] as? String == "r\"1")
    }

    @Test("escapes control characters")
    func escapes() {
        var out = ""
        JSONText.appendString("a\u{1}\n\\", to: &out)
        #expect(out == #""a\u0001\n\\""#)
    }
}
