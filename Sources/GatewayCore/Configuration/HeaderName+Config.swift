/// Header names written in the config file.
enum ConfigHeaderName {
    /// A field name of letters, digits and `-`, as kept (matching ignores case).
    static func parse(_ text: String) throws(ConfigValueProblem) -> String {
        guard !text.isEmpty, text.utf8.count <= 64, text.utf8.allSatisfy({ $0.isASCIIAlphanumeric || $0 == UInt8(ascii: "-") }) else {
            throw ConfigValueProblem("\(text.quotedForConfig) is not a header name", allowed: "letters, digits and -")
        }
        return text
    }
}
