import Foundation

/// Finds duplicate member names in a JSON object, which JSON decoders silently resolve one way or
/// another (and different parsers differently): a token header with two `alg` is refused.
enum JSONKeys {
    /// Whether the base64url-encoded JSON object repeats a top-level member name, escapes resolved;
    /// malformed input reports no duplicates (the decoder refuses it).
    static func hasDuplicateTopLevelKeys(base64URL encoded: ArraySlice<UInt8>) -> Bool {
        guard let json = Base64URL.decode(String(decoding: encoded, as: UTF8.self)) else { return false }
        return hasDuplicateTopLevelKeys(Array(json))
    }

    /// A quoted JSON string's value, escapes resolved (`"\u0061lg"` is `alg`); as written if invalid.
    private static func unescaped(_ quoted: ArraySlice<UInt8>) -> String {
        let data = Data(quoted)
        return (try? JSONSerialization.jsonObject(with: data, options: .fragmentsAllowed) as? String)
            ?? String(decoding: quoted, as: UTF8.self)
    }

    static func hasDuplicateTopLevelKeys(_ json: [UInt8]) -> Bool {
        var names = Set<String>()
        var depth = 0
        var index = 0
        var expectingName = false
        while index < json.count {
            let byte = json[index]
            switch byte {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
                expectingName = byte == UInt8(ascii: "{") && depth == 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
            case UInt8(ascii: ","):
                expectingName = depth == 1
            case UInt8(ascii: "\""):
                var end = index + 1
                while end < json.count, json[end] != UInt8(ascii: "\"") {
                    end += json[end] == UInt8(ascii: "\\") ? 2 : 1
                }
                if expectingName, end < json.count {
                    if !names.insert(unescaped(json[index...end])).inserted { return true }
                    expectingName = false
                }
                index = end
            default:
                break
            }
            index += 1
        }
        return false
    }
}
