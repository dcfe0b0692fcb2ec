import Foundation
import Testing

@testable import GatewayCore

@Suite("JSON Schema subset")
struct JSONSchemaTests {
    static func schema(_ text: String) throws -> JSONSchema {
        try JSONSchema(document: JSONReader(maximumDepth: 64, maximumMembers: 100_000).read(Array(text.utf8)))
    }

    static let register = #"""
        {"type":"object","required":["username","email","password"],"additionalProperties":false,
         "properties":{"username":{"type":"string","pattern":"^[a-z0-9_.-]{3,32}$"},
                       "email":{"type":"string","format":"email","maxLength":254},
                       "password":{"type":"string","minLength":12,"maxLength":128},
                       "age":{"type":"integer","minimum":13,"maximum":150},
                       "tags":{"type":"array","items":{"enum":["a","b"]},"minItems":1,"maxItems":2},
                       "kind":{"const":"person"}}}
        """#

    func violations(_ body: String) throws -> [String] {
        let value = try JSONReader.requestBodies.read(Array(body.utf8))
        return try Self.schema(Self.register).violations(of: value).map { "\($0.pointer) \($0.message)" }
    }

    @Test(
        "lists each violation with its JSON pointer",
        arguments: [
            (#"{"username":"alice","email":"a@example.com","password":"correct horse battery"}"#, [String]()),
            (#"[]"#, ["/ must be object, not array"]),
            (#"{}"#, ["/username is required", "/email is required", "/password is required"]),
            (
                #"{"username":"Al","email":"not-an-email","password":"short","extra":1}"#,
                [
                    "/username must match the pattern", "/email must be an e-mail address", "/password must be at least 12 characters",
                    "/extra is not allowed",
                ]
            ),
            (
                #"{"username":"alice","email":"a@b.co","password":"correct horse battery","age":12.5,"tags":["a","c","b"],"kind":"robot"}"#,
                [
                    "/age must be integer, not number", "/tags must have at most 2 items", "/tags/1 must be one of the enumerated values",
                    "/kind must equal the constant value",
                ]
            ),
            (#"{"username":"alice","email":"a@b.co","password":"correct horse battery","age":151}"#, ["/age must be at most 150"]),
            (#"{"username":"alice","email":"a@b.co","password":"correct horse battery","tags":[]}"#, ["/tags must have at least 1 items"]),
        ])
    func table(_ body: String, _ expected: [String]) throws {
        #expect(try violations(body) == expected)
    }

    @Test(
        "refuses a schema it cannot enforce, naming the keyword",
        arguments: [
            (#"{"type":"strin"}"#, "/type: must name JSON Schema types"),
            (#"{"oneOf":[]}"#, #"/oneOf: unsupported keyword "oneOf""#),
            (#"{"properties":{"a":{"format":"uri"}}}"#, #"/properties/a/format: only "email" is supported"#),
            (#"{"pattern":"("}"#, "/pattern: is not a valid regular expression"),
            (#"{"minLength":-1}"#, "/minLength: must be a non-negative integer"),
            (#"{"required":"a"}"#, "/required: must be an array of strings"),
            ("[]", "a schema must be an object"),
        ])
    func badSchemas(_ text: String, _ message: String) {
        #expect {
            _ = try Self.schema(text)
        } throws: { error in
            (error as? JSONSchema.CompileError)?.description == message
        }
    }

    @Test("names and values compare by their exact characters, not by Unicode equivalence")
    func exactText() throws {
        let schema = try Self.schema(#"{"required":["Kind"],"properties":{"Kind":{"enum":["K"]}}}"#)
        let kelvin = try JSONReader.requestBodies.read(Array(#"{"\u212Aind":"x"}"#.utf8))
        #expect(schema.violations(of: kelvin).map(\.pointer) == ["/Kind"], "the Kelvin sign is not K")
        let value = try JSONReader.requestBodies.read(Array(#"{"Kind":"\u212A"}"#.utf8))
        #expect(schema.violations(of: value).map(\.message) == ["must be one of the enumerated values"])
    }

    @Test("a pattern is matched only against strings of at most 4096 characters")
    func boundedPattern() throws {
        let schema = try Self.schema(#"{"pattern":"^a+$"}"#)
        #expect(schema.violations(of: .string(String(repeating: "a", count: 4_096))).isEmpty)
        #expect(
            schema.violations(of: .string(String(repeating: "a", count: 4_097))).map(\.message) == [
                "must be at most 4096 characters to match the pattern"
            ])
    }
}
