import GatewayCore

/// Config texts for the configuration tests, and a way to see the problems they have.
enum ConfigFixture {
    /// The path every test document pretends to come from.
    static let file = "/srv/gw.conf"

    static let tls = """
        [tls]
        certificate = "server.crt"
        private_key = "server.key"
        """

    static let upstream = """
        [[upstream]]
        name = "users"
        url = "http://127.0.0.1:8081"
        """

    static let route = """
        [[route]]
        path = "/users"
        upstream = "users"
        """

    /// The algorithm allowlist the linter wants whenever routes need tokens.
    static let jwt = """
        [jwt]
        algorithms = ["HS256"]
        """

    /// `snippet`, followed by a valid `[jwt]`, `[tls]`, `[[upstream]]` and `[[route]]` for those of
    /// them it does not have, so that line numbers in the snippet count from its own first line.
    static func completed(_ snippet: String) -> String {
        var text = snippet
        // A snippet that ends inside its own [jwt] gets the allowlist after its lines, so that they keep their numbers.
        let lastHeader = snippet.split(separator: "\n").last { $0.hasPrefix("[") }
        if lastHeader == "[jwt]", !snippet.contains("algorithms") { text += "\nalgorithms = [\"HS256\"]" }
        for (header, section) in [("[jwt", jwt), ("[tls]", tls), ("[[upstream]]", upstream), ("[[route]]", route)]
        where !snippet.contains(header) {
            text += "\n\n" + section
        }
        return text + "\n"
    }

    /// The rendered problems of `text` as is (empty if it loads).
    static func problems(inDocument text: String) -> [String] {
        do {
            _ = try ConfigLoader.parse(text: text, sourcePath: file)
            return []
        } catch {
            return error.problems.map(\.description)
        }
    }

    /// The rendered problems of `snippet` completed with valid required sections.
    static func problems(_ snippet: String) -> [String] {
        problems(inDocument: completed(snippet))
    }

    /// The config `snippet` completed with valid required sections decodes to.
    static func config(_ snippet: String) throws(ConfigErrors) -> GatewayConfig {
        try ConfigLoader.parse(text: completed(snippet), sourcePath: file)
    }
}
