/// The rules for a route's `path`: an already-normalised absolute path prefix, so that it can be
/// compared with normalised request paths as it is.
enum RoutePath {
    /// Returns `text` if it is an acceptable route path, or throws what is wrong with it.
    static func validate(_ text: String) throws(ConfigValueProblem) -> String {
        let quoted = text.quotedForConfig
        guard text.hasPrefix("/") else { throw ConfigValueProblem("\(quoted) must start with \"/\"") }
        guard !text.contains(where: { $0 == "?" || $0 == "#" }) else {
            throw ConfigValueProblem("\(quoted) must not contain \"?\" or \"#\": routes match paths only")
        }
        guard !text.contains("%") else {
            throw ConfigValueProblem("\(quoted) must not contain \"%\": write the path decoded")
        }
        guard !text.contains("//") else { throw ConfigValueProblem("\(quoted) must not contain \"//\"") }
        let segments = text.split(separator: "/")
        guard !segments.contains(where: { $0 == "." || $0 == ".." }) else {
            throw ConfigValueProblem("\(quoted) must not contain \".\" or \"..\" segments")
        }
        guard text == "/" || !text.hasSuffix("/") else {
            throw ConfigValueProblem("\(quoted) must not end with \"/\"", allowed: String(text.dropLast()).quotedForConfig)
        }
        if let character = text.first(where: { !isPathCharacter($0) }) {
            throw ConfigValueProblem(
                "\(quoted) contains \(String(character).quotedForConfig), which is not allowed in a path",
                allowed: #"letters, digits and - . _ ~ ! $ & ' ( ) * + , ; = : @ /"#
            )
        }
        return text
    }

    /// RFC 3986 `pchar` without percent-encoding, plus `/`.
    private static func isPathCharacter(_ character: Character) -> Bool {
        guard character.isASCII else { return false }
        return character.isLetter || character.isNumber || "-._~!$&'()*+,;=:@/".contains(character)
    }
}
