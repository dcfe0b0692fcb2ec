@testable import GatewayCore

/// A request schema like `schemas/register.json`. Compiled for every input: LeakSanitizer cannot
/// follow Swift's tagged enum payloads from a global, and reports what a global schema holds.
private func registerSchema() -> JSONSchema {
    let document = #"""
        {"type": "object", "additionalProperties": false, "required": ["username", "password"],
         "properties": {
           "username": {"type": "string", "minLength": 3, "maxLength": 32, "pattern": "^[a-z0-9_]+$"},
           "password": {"type": "string", "minLength": 12, "maxLength": 128},
           "age": {"type": "integer", "minimum": 0, "maximum": 150},
           "tags": {"type": "array", "maxItems": 4, "items": {"enum": ["a", "b"]}}}}
        """#
    return try! JSONSchema(document: JSONReader.requestBodies.read(Array(document.utf8)))
}

/// libFuzzer entry point: the strict JSON reader on request bodies, a fixed schema checked
/// against what it reads, and the input compiled as a schema of its own (config schemas).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let value = try? JSONReader.requestBodies.read(bytes) else { return 0 }
    _ = registerSchema().violations(of: value)
    if let schema = try? JSONSchema(document: value) { _ = schema.violations(of: value) }
    return 0
}
