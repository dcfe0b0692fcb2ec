/// Turns a request target into the one path that routing and the upstream both see.
///
/// Escaped unreserved characters and sub-delimiters are decoded, other escapes upper-cased,
/// dot-segments resolved and repeated slashes merged. Anything that different servers could read
/// differently is refused: encoded `/` or `\`, control bytes raw or encoded (C0 and DEL: an encoded
/// CR or LF becomes a header line in an upstream that decodes it), raw backslashes, malformed
/// escapes, escapes that do not decode to well-formed UTF-8 (overlong forms such as `%C0%AE`,
/// surrogates, code points above U+10FFFF, stray or missing continuation bytes), `..` above the
/// root, and `;` (path parameters, which Java servers strip before routing).
public enum PathNormalizer {
    /// Why a target was refused; the text is safe to show to a client.
    public struct Rejection: Error, Equatable, Sendable {
        public let reason: String
        init(_ reason: String) { self.reason = reason }
    }

    /// A normalised origin-form target.
    public struct Target: Equatable, Sendable {
        /// Starts with `/`; no dot-segments, no empty segments.
        public var path: String
        /// The raw query without `?`, or `nil` when the target had none.
        public var query: String?

        /// `path` plus `?query` when there is one.
        public var uri: String { query.map { path + "?" + $0 } ?? path }
    }

    /// Normalises an origin-form request target such as `/a/./b%7e?x=1`.
    public static func normalize(_ target: String) throws(Rejection) -> Target {
        var bytes = Array(target.utf8)
        guard bytes.first == UInt8(ascii: "/") else {
            throw Rejection(bytes.isEmpty ? "empty request target" : "only origin-form targets are accepted")
        }
        var query: String?
        if let mark = bytes.firstIndex(of: UInt8(ascii: "?")) {
            let rawQuery = bytes[(mark + 1)...]
            guard rawQuery.allSatisfy(isAllowedQueryByte) else { throw Rejection("the query contains forbidden characters") }
            query = String(decoding: rawQuery, as: UTF8.self)
            bytes.removeSubrange(mark...)
        }
        let decoded = try decodePercentEscapes(bytes)
        let segments = try resolveSegments(decoded)
        var path = "/" + segments.joined(separator: "/")
        if decoded.count > 1, decoded.last == UInt8(ascii: "/"), !segments.isEmpty { path += "/" }
        return Target(path: path, query: query)
    }

    private static func decodePercentEscapes(_ bytes: [UInt8]) throws(Rejection) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        // The path with every escape decoded, kept only once an escape above ASCII is seen.
        var text: [UInt8]?
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            guard byte != UInt8(ascii: ";") else { throw Rejection("semicolon in path") }
            guard isAllowedPathByte(byte) else {
                throw Rejection(byte == UInt8(ascii: "\\") ? "backslash in path" : "forbidden character in path")
            }
            guard byte == UInt8(ascii: "%") else {
                out.append(byte)
                text?.append(byte)
                index += 1
                continue
            }
            guard index + 2 < bytes.count, let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2])
            else { throw Rejection("malformed percent-escape") }
            let value = high << 4 | low
            if value >= 0x80, text == nil { text = decodedPrefix(bytes[..<index]) }
            text?.append(value)
            switch value {
            case 0x00: throw Rejection("encoded NUL in path")
            case 0x01..<0x20, 0x7F: throw Rejection("encoded control character in path")
            case UInt8(ascii: "/"): throw Rejection("encoded slash in path")
            case UInt8(ascii: "\\"): throw Rejection("encoded backslash in path")
            case UInt8(ascii: ";"): throw Rejection("encoded semicolon in path")
            case _ where isUnreserved(value) || isSubDelimiter(value):
                out.append(value)
            default:
                out.append(UInt8(ascii: "%"))
                out.append(hexDigit(high))
                out.append(hexDigit(low))
            }
            index += 3
        }
        // Lenient decoders have read overlong `%C0%AE` as `.` (path traversals in Tomcat and IIS).
        if let text, String(validating: text, as: UTF8.self) == nil {
            throw Rejection("percent-escapes that are not well-formed UTF-8")
        }
        return out
    }

    /// `bytes`, already checked, with their escapes decoded (all of them ASCII).
    private static func decodedPrefix(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        var text: [UInt8] = []
        text.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index < bytes.endIndex {
            if bytes[index] == UInt8(ascii: "%"), let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2]) {
                text.append(high << 4 | low)
                index += 3
            } else {
                text.append(bytes[index])
                index += 1
            }
        }
        return text
    }

    private static func resolveSegments(_ path: [UInt8]) throws(Rejection) -> [String] {
        var stack: [String] = []
        for raw in path.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true) {
            if raw.elementsEqual(".".utf8) { continue }
            if raw.elementsEqual("..".utf8) {
                guard stack.popLast() != nil else { throw Rejection("path escapes the root") }
                continue
            }
            stack.append(String(decoding: raw, as: UTF8.self))
        }
        return stack
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
            UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    /// RFC 3986 `pchar` plus `/` and `%`; everything else (controls, space, `\`, `"`, `<`, non-ASCII…) is refused.
    private static func isAllowedPathByte(_ byte: UInt8) -> Bool {
        isUnreserved(byte) || isSubDelimiter(byte) || byte == UInt8(ascii: "/") || byte == UInt8(ascii: "%")
    }

    /// RFC 3986 sub-delimiters and `:` `@`, without `;` (refused before this is asked).
    private static func isSubDelimiter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "!"), UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "'"), UInt8(ascii: "("),
            UInt8(ascii: ")"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: ","), UInt8(ascii: "="),
            UInt8(ascii: ":"), UInt8(ascii: "@"):
            return true
        default:
            return false
        }
    }

    /// Visible ASCII except `#`; the query is forwarded as sent.
    private static func isAllowedQueryByte(_ byte: UInt8) -> Bool {
        byte > 0x20 && byte < 0x7F && byte != UInt8(ascii: "#")
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    private static func hexDigit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "A") + value - 10
    }
}
