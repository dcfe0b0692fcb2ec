/// The rules request fields must follow; each returns nil for a valid value, or what is wrong with it.
enum FieldRules {
    private static let usernameCharacters = Set("abcdefghijklmnopqrstuvwxyz0123456789_.-".unicodeScalars)

    static func username(_ value: String) -> String? {
        let scalars = value.unicodeScalars
        guard (3...32).contains(scalars.count), scalars.allSatisfy(usernameCharacters.contains) else {
            return "must be 3 to 32 characters of a-z, 0-9, '_', '.' and '-'"
        }
        return nil
    }

    /// A deliberately simple check: one "@", a non-empty local part, a dotted domain, no spaces, at most 254 bytes.
    static func email(_ value: String) -> String? {
        let problem = "must be a valid email address"
        let isSpaceOrControl = { (scalar: Unicode.Scalar) in
            scalar.properties.isWhitespace || scalar.properties.generalCategory == .control
        }
        guard value.utf8.count <= 254, !value.unicodeScalars.contains(where: isSpaceOrControl) else { return problem }
        let parts = value.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, let local = parts.first, let domain = parts.last, !local.isEmpty else { return problem }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, labels.allSatisfy({ !$0.isEmpty }) else { return problem }
        return nil
    }

    static func password(_ value: String) -> String? {
        guard (12...128).contains(value.count) else { return "must be 12 to 128 characters" }
        // bcrypt reads a C string: a NUL would silently cut the password short.
        guard !value.unicodeScalars.contains("\0") else { return "must not contain NUL characters" }
        return nil
    }

    static func resourceName(_ value: String) -> String? {
        (1...200).contains(value.count) ? nil : "must be 1 to 200 characters"
    }

    static let maximumContentBytes = 16 * 1024

    static func resourceContent(_ value: String) -> String? {
        value.utf8.count <= maximumContentBytes ? nil : "must be at most \(maximumContentBytes) bytes of UTF-8"
    }

    /// Throws ``APIError/validationFailed(_:)`` listing every field whose rule found a problem.
    static func enforce(_ results: KeyValuePairs<String, String?>) throws {
        let problems = results.compactMap { field, problem in problem.map { (field, $0) } }
        guard problems.isEmpty else {
            throw APIError.validationFailed(Dictionary(problems, uniquingKeysWith: { first, _ in first }))
        }
    }
}
