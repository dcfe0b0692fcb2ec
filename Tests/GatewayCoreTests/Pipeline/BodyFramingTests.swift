import NIOHTTP1
import Testing

@testable import GatewayCore

@Suite("Request body framing")
struct BodyFramingTests {
    func head(_ headers: HTTPHeaders, version: HTTPVersion = .http1_1) -> HTTPRequestHead {
        HTTPRequestHead(version: version, method: .POST, uri: "/", headers: headers)
    }

    @Test("no framing headers means no body")
    func none() throws { #expect(try BodyFraming.of(head([:])) == BodyFraming.none) }

    @Test("a Content-Length is kept, repeated identical values are tolerated")
    func length() throws {
        #expect(try BodyFraming.of(head(["Content-Length": "12"])) == .length(12))
        #expect(try BodyFraming.of(head(["Content-Length": "12", "content-length": "12"])) == .length(12))
    }

    @Test("chunked is the only transfer coding")
    func chunked() throws {
        #expect(try BodyFraming.of(head(["Transfer-Encoding": "chunked"])) == .chunked)
        #expect(throws: GatewayProblem.self) { try BodyFraming.of(head(["Transfer-Encoding": "gzip, chunked"])) }
        #expect(throws: GatewayProblem.self) { try BodyFraming.of(head(["Transfer-Encoding": "identity"])) }
        #expect(throws: GatewayProblem.self) { try BodyFraming.of(head(["Transfer-Encoding": "chunked"], version: .http1_0)) }
    }

    @Test(
        "ambiguous framing is refused and closes the connection",
        arguments: [
            ["Content-Length": "5", "Transfer-Encoding": "chunked"],
            ["Content-Length": "5", "content-length": "6"],
            ["Content-Length": "-1"],
            ["Content-Length": "5, 6"],
            ["Content-Length": "0x10"],
            ["Content-Length": "99999999999999999999"],
        ] as [HTTPHeaders])
    func ambiguous(_ headers: HTTPHeaders) {
        do {
            _ = try BodyFraming.of(head(headers))
            Issue.record("accepted \(headers)")
        } catch {
            #expect(error.status == .badRequest)
            #expect(error.code == "bad_framing")
            #expect(error.closesConnection)
        }
    }
}
