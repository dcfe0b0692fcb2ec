import Foundation
import Logging
import Testing

@testable import GatewayCore

@Suite("Log lines: text, JSON and logfmt")
struct LineLogHandlerTests {
    static let time = Date(timeIntervalSince1970: 1_795_000_000.123)
    static let metadata: Logger.Metadata = ["status": "200", "path": "/a b", "request_id": "abc"]

    static func line(_ format: LogFormat, message: String = "request", metadata: Logger.Metadata = metadata) -> String {
        LineLogHandler.line(format: format, time: time, level: .info, label: "gateway", message: message, metadata: metadata)
    }

    @Test("text: time, level, label and message, then sorted key=value pairs")
    func text() {
        #expect(Self.line(.text) == #"2026-11-18T11:06:40.123Z info gateway: request path="/a b" request_id=abc status=200"# + "\n")
    }

    @Test("logfmt: every field a key=value pair, quoted when needed")
    func logfmt() {
        #expect(
            Self.line(.logfmt)
                == #"time=2026-11-18T11:06:40.123Z level=info logger=gateway msg=request path="/a b" request_id=abc status=200"# + "\n")
    }

    @Test("JSON: one object per line that parses back to the same fields")
    func json() throws {
        let line = Self.line(.json)
        #expect(line.hasSuffix("}\n") && line.filter { $0 == "\n" }.count == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        #expect(
            object == [
                "time": "2026-11-18T11:06:40.123Z", "level": "info", "logger": "gateway", "msg": "request", "path": "/a b",
                "request_id": "abc", "status": "200",
            ])
    }

    @Test("a value cannot start a new line or break out of its field, in any format", arguments: LogFormat.allCases)
    func injection(format: LogFormat) throws {
        let hostile = "x\"\n2026-01-01T00:00:00.000Z error gateway: forged status=500\u{2028}\u{85}\\"
        let line = Self.line(format, message: "m\r\nforged", metadata: ["path": .string(hostile)])
        #expect(line.unicodeScalars.filter { $0 == "\n" || $0 == "\r" }.count == 1 && line.hasSuffix("\n"))
        #expect(!line.unicodeScalars.contains("\u{2028}") && !line.unicodeScalars.contains("\u{85}"))
        if format == .json {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
            #expect(object["path"] == hostile && object["msg"] == "m\r\nforged")
        }
    }
}
