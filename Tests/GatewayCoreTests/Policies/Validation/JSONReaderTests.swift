import Foundation
import Testing

@testable import GatewayCore

@Suite("Strict JSON reader")
struct JSONReaderTests {
    func read(_ text: String) throws(JSONSyntaxError) -> JSONValue {
        try JSONReader.requestBodies.read(Array(text.utf8))
    }

    @Test("reads RFC 8259 JSON, keeping member order, numbers and escapes")
    func valid() throws {
        let value = try read(#" {"a": [1, -2.5e3, true, false, null], "b": "x\u00e9\ud83d\ude00\n", "c": {}} "#)
        guard case .object(let members) = value else {
            Issue.record("not an object")
            return
        }
        #expect(members.map(\.name) == ["a", "b", "c"])
        #expect(
            members[0].value == .array([.number(1, isInteger: true), .number(-2500, isInteger: false), .bool(true), .bool(false), .null]))
        #expect(members[1].value == .string("xé😀\n"))
        #expect(try read("42") == .number(42, isInteger: true))
        #expect(try read(#""text""#) == .string("text"))
    }

    @Test(
        "refuses what is not strict JSON, naming the byte offset",
        arguments: [
            ("", 0, "unexpected end of JSON"),
            ("{", 1, "expected a member name"),
            (#"{"a":1,}"#, 7, "expected a member name"),
            ("[1,]", 3, "unexpected character"),
            ("[1 2]", 3, "expected ',' or ']'"),
            ("{'a':1}", 1, "expected a member name"),
            (#"{"a":1} x"#, 8, "unexpected data after the JSON value"),
            ("// c\n{}", 0, "unexpected character"),
            ("01", 1, "unexpected data after the JSON value"),
            ("1.", 2, "expected a digit"),
            ("-", 1, "expected a digit"),
            ("NaN", 0, "unexpected character"),
            ("tru", 0, "unexpected character"),
            (#""a\x""#, 3, "invalid escape"),
            (#""\ud800""#, 7, "lone surrogate"),
            ("\"a\u{01}\"", 2, "control character in a string"),
            (#""abc"#, 4, "unterminated string"),
            (#"{"a":1,"a":2}"#, 7, #"repeated member name "a""#),
            ("1e999", 0, "number out of range"),
        ])
    func invalid(_ text: String, _ offset: Int, _ message: String) {
        #expect(throws: JSONSyntaxError(offset: offset, message: message)) { try read(text) }
    }

    @Test("refuses invalid UTF-8 in a string")
    func invalidUTF8() {
        #expect(throws: JSONSyntaxError(offset: 1, message: "invalid UTF-8")) {
            try JSONReader.requestBodies.read([0x22, 0xC3, 0x28, 0x22])
        }
    }

    @Test("nesting deeper than 32 and more than 10,000 members are refused where they happen")
    func limits() throws {
        _ = try read(String(repeating: "[", count: 32) + String(repeating: "]", count: 32))
        #expect(throws: JSONSyntaxError(offset: 32, message: "nesting deeper than 32")) {
            try read(String(repeating: "[", count: 33) + String(repeating: "]", count: 33))
        }
        let tenThousand = "[" + Array(repeating: "0", count: 10_000).joined(separator: ",") + "]"
        _ = try read(tenThousand)
        let tooMany = "[" + Array(repeating: "0", count: 10_001).joined(separator: ",") + "]"
        #expect(throws: JSONSyntaxError(offset: 20_001, message: "more than 10000 members")) { try read(tooMany) }
    }

    @Test("random mutations of a document never crash the reader: each is read or refused")
    func mutations() {
        let seed = Array(#"{"name":"a\u00e9","list":[1,2.5,{"x":null}],"ok":true}"#.utf8)
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array(#"{}[]":,\-+.eE0123456789tfnul"#.utf8) + [0x00, 0x1F, 0x80, 0xC3, 0xFF]
        for _ in 0..<5_000 {
            var bytes = seed
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                let index = Int.random(in: 0..<bytes.count, using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: bytes[index] = alphabet.randomElement(using: &generator)!
                case 1: bytes.remove(at: index)
                default: bytes.insert(alphabet.randomElement(using: &generator)!, at: index)
                }
                if bytes.isEmpty { bytes = [0x20] }
            }
            do {
                _ = try JSONReader.requestBodies.read(bytes)
            } catch {
                #expect(error.offset >= 0 && error.offset <= bytes.count)
            }
        }
    }
}
