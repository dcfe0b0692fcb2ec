import Foundation
import GatewayCore
import Testing

@Suite("Config loading")
struct ConfigLoaderTests {
    /// The repository root, found from this file: Tests/GatewayCoreTests/Configuration/….
    static let repositoryRoot: String = {
        var components = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        components.removeLast(4)
        return components.joined(separator: "/")
    }()

    @Test("applies every default to a minimal file")
    func defaults() throws {
        let config = try ConfigFixture.config("")
        #expect(config.sourcePath == "/srv/gw.conf")
        #expect(config.server.listen == HostPort(host: "127.0.0.1", port: 8443))
        #expect(config.server.redirectHTTPListen == nil)
        #expect(config.server.trustedProxies.isEmpty)
        #expect(config.server.maxHeaderBytes == 16 * 1024)
        #expect(config.server.maxBodyBytes == 1024 * 1024)
        #expect(config.server.idleTimeout == .seconds(60))
        #expect(config.server.requestHeaderTimeout == .seconds(10))
        #expect(config.server.maxConnections == 10_000)
        #expect(config.tls.minVersion == .v1_2)
        #expect(config.tls.hsts)
        #expect(config.tls.hstsMaxAge == .seconds(365 * 86_400))
        #expect(config.jwt.issuers[0].secretFile == nil)
        #expect(config.jwt.issuers[0].issuer == nil)
        #expect(config.jwt.issuers[0].audience == nil)
        #expect(config.jwt.leeway == .seconds(30))
        let upstream = try #require(config.upstreams.first)
        #expect(upstream.connectTimeout == .seconds(2))
        #expect(upstream.responseTimeout == .seconds(30))
        #expect(upstream.maxIdleConnections == 32)
        let route = try #require(config.routes.first)
        #expect(route.methods == nil)
        #expect(route.stripPrefix == false)
        #expect(route.auth == .required)
        #expect(route.login == false)
    }

    @Test("loads the example config at the repository root without problems")
    func exampleFile() throws {
        let path = "\(Self.repositoryRoot)/gateway.conf.example"
        let config = try ConfigLoader.load(path: path)
        #expect(config.server.listen == HostPort(host: "127.0.0.1", port: 8443))
        #expect(config.tls.certificatePath == "\(Self.repositoryRoot)/certs/dev/server.crt")
        #expect(config.tls.privateKeyPath == "\(Self.repositoryRoot)/certs/dev/server.key")
        #expect(config.jwt.issuers[0].secretFile == "\(Self.repositoryRoot)/state/jwt-secret")
        #expect(config.jwt.issuers[0].issuer == "userservice")
        #expect(config.jwt.issuers[0].audience == "gateway")
        #expect(config.upstreams.map(\.name) == ["users"])
        #expect(config.upstreams.first?.targets == [HostPort(host: "127.0.0.1", port: 8081)])
        #expect(config.routes.map(\.path) == ["/auth", "/auth/register", "/auth/login", "/health", "/users", "/resources"])
        #expect(config.routes.map(\.auth) == [.none, .none, .none, .none, .required, .required])
        #expect(config.routes.map(\.methods) == [["POST"], ["POST"], ["POST"], ["GET"], nil, nil])
        #expect(config.routes.map(\.login) == [false, false, true, false, false, false])
        #expect(config.routes.map { $0.validation.schemaFile != nil } == [false, true, true, false, false, true])
        #expect(config.loginProtection == LoginProtectionConfig())
        #expect(config.store.path == "\(Self.repositoryRoot)/state/gateway.sqlite")
    }

    @Test("resolves relative file paths against the config file's directory")
    func relativePaths() throws {
        let text = ConfigFixture.completed(
            """
            [tls]
            certificate = "certs/./server.crt"
            private_key = "../keys/server.key"

            [jwt]
            secret_file = "/run/credentials/jwt"
            """)
        let config = try ConfigLoader.parse(text: text, sourcePath: "/etc/gateway/gateway.conf")
        #expect(config.tls.certificatePath == "/etc/gateway/certs/server.crt")
        #expect(config.tls.privateKeyPath == "/etc/keys/server.key")
        #expect(config.jwt.issuers[0].secretFile == "/run/credentials/jwt")
    }

    @Test("resolves paths in a relatively named config file against the working directory")
    func relativeConfigFile() throws {
        let config = try ConfigLoader.parse(text: ConfigFixture.completed(""), sourcePath: "conf/gateway.conf")
        #expect(config.tls.certificatePath.hasPrefix("/"))
        #expect(config.tls.certificatePath.hasSuffix("/conf/server.crt"))
    }

    @Test("reports a TOML syntax error at its line")
    func syntaxError() {
        let problems = ConfigFixture.problems(
            inDocument: """
                [server]
                listen = "127.0.0.1:8443"
                idle_timeout = 
                """)
        #expect(problems == ["/srv/gw.conf:3: TOML syntax error at column 16: Error while parsing key-value pair: encountered end-of-file"])
    }

    @Test("reports a key defined twice as a syntax error at the second definition")
    func duplicateKey() {
        let problems = ConfigFixture.problems(
            inDocument: """
                [server]
                listen = "127.0.0.1:8443"
                listen = "127.0.0.1:9443"
                """)
        #expect(
            problems == [
                "/srv/gw.conf:3: TOML syntax error at column 10: Error while parsing key-value pair: cannot redefine existing string 'listen'"
            ])
    }

    @Test("collects every problem of the file, in line order")
    func collectsEveryProblem() {
        let problems = ConfigFixture.problems(
            inDocument: """
                [server]
                listen = "nowhere"
                max_connections = 0

                [[upstream]]
                name = "users"
                url = "https://users.internal:8081"

                [[route]]
                path = "/users/"
                upstream = "user"
                colour = "blue"
                """)
        #expect(
            problems == [
                #"/srv/gw.conf:2: server.listen: invalid address "nowhere" (allowed: host:port or [ipv6]:port, port 0..65535)"#,
                "/srv/gw.conf:3: server.max_connections: 0 is out of range (allowed: 1 or more)",
                "/srv/gw.conf:7: upstream[0].url: https is not supported: upstreams are plain HTTP on a private network (allowed: http://host:port)",
                #"/srv/gw.conf:10: route[0].path: "/users/" must not end with "/" (allowed: "/users")"#,
                #"/srv/gw.conf:11: route[0].upstream: no upstream named "user" (allowed: users)"#,
                "/srv/gw.conf:12: route[0].colour: unknown key (allowed: path, methods, upstream, strip_prefix, auth, scopes, roles, issuers, login, public, rate_limit, cors, allow_clients, request_buffering, content_types, max_body, json, max_query_params, required_headers, schema)",
                "/srv/gw.conf: tls.certificate: missing required key",
                "/srv/gw.conf: tls.private_key: missing required key",
                "/srv/gw.conf: jwt.algorithms: missing: routes require tokens, so name the algorithms they may be signed with (allowed: \(IssuerConfig.algorithmNames))",
            ])
    }

    @Test("reports an unreadable file as a single problem")
    func unreadableFile() {
        let error = #expect(throws: ConfigErrors.self) { try ConfigLoader.load(path: "/nonexistent/gateway.conf") }
        #expect(
            error?.problems.map(\.description) == [
                "/nonexistent/gateway.conf: cannot open the file: No such file or directory"
            ])
    }

    @Test("refuses a NUL byte, which the TOML parser would silently stop at")
    func nulByte() {
        let problems = ConfigFixture.problems(inDocument: "[server]\nlisten = \"127.0.0.1:8443\"\u{0}\n")
        #expect(problems == ["/srv/gw.conf:2: the file contains a NUL byte (allowed: \(Self.controlAllowed))"])
    }

    static let controlAllowed = #"tab and line ends; inside a string, write other control characters escaped, such as \u001F"#

    @Test(
        "refuses a table header that does not name its table at once: the TOML parser aborted on these (found by Fuzz/run)",
        arguments: ["[\n", "[[\n", "[ # comment\n", "[*]\n", "[ .a]\n", "x = 1\n  [\r\n"])
    func unnamedTableHeader(document: String) {
        let line = document.hasPrefix("x") ? 2 : 1
        #expect(
            ConfigFixture.problems(inDocument: document) == [
                #"/srv/gw.conf:\#(line): a table header must name its table right after the bracket (allowed: a name of letters, digits, "_" and "-", or a quoted name, e.g. [server] or [[route]])"#
            ])
    }

    @Test(
        "refuses non-ASCII outside strings and comments: the TOML parser may take it for whitespace (found by Fuzz/run)",
        arguments: [
            ("\u{A0}[ #jwt]\n", 1, "U+00A0"), ("[server]\nlisten\u{2003}= \"x\"\n", 2, "U+2003"), ("[server]\u{2028}[ #x]", 1, "U+2028"),
            ("[aé]\n", 1, "U+00E9"), ("x = \"a\" \u{FEFF}\n", 1, "U+FEFF"), ("x = \"\"\"\n\"é\"\"\"\" y = é", 2, "U+00E9"),
        ])
    func nonASCIIOutsideStrings(document: String, line: Int, codePoint: String) {
        #expect(
            ConfigFixture.problems(inDocument: document) == [
                "/srv/gw.conf:\(line): the file contains \(codePoint) outside a string or comment (allowed: ASCII; non-ASCII text goes in quoted strings and comments)"
            ])
    }

    @Test(
        "non-ASCII inside strings and comments is left to the config's own checks",
        arguments: [
            "# café\u{A0}\u{2028}\n", "x = \"café\"\n", "x = 'café'\n", "x = \"\"\"\ncafé\n\"\"\"\n", "x = '''\ncafé'''\n",
            "x = \"a\\\"é\"\n",
        ])
    func nonASCIIInStrings(document: String) {
        let problems = ConfigFixture.problems(inDocument: document)
        #expect(!problems.isEmpty && !problems.contains { $0.contains("outside a string") || $0.contains("syntax") }, "\(problems)")
    }

    @Test(
        "refuses a } where an array's element belongs: the TOML parser aborted on it (found by Fuzz/run)",
        arguments: ["s = [}", "s = [1, }]", "s = [\n  # c\n  }", "s = { a = [[} }"])
    func braceInArray(document: String) {
        let line = document.contains("# c") ? 3 : 1
        #expect(
            ConfigFixture.problems(inDocument: document) == [
                #"/srv/gw.conf:\#(line): a "}" stands where an array's element belongs (allowed: a value, or "]" to close the array)"#
            ])
    }

    @Test("a byte order mark at the start is skipped; the table header check still sees the line (it aborted the parser)")
    func byteOrderMark() {
        #expect(
            ConfigFixture.problems(inDocument: "\u{FEFF}[ #jwt]\n[[jwt.is") == [
                #"/srv/gw.conf:1: a table header must name its table right after the bracket (allowed: a name of letters, digits, "_" and "-", or a quoted name, e.g. [server] or [[route]])"#
            ])
        let problems = ConfigFixture.problems(inDocument: "\u{FEFF}[server]\nlisten = \"127.0.0.1:8443\"\n")
        #expect(!problems.isEmpty && !problems.contains { $0.contains("U+FEFF") || $0.contains("syntax") }, "\(problems)")
    }

    @Test("refuses raw control characters before parsing: [ then U+001F aborted the TOML parser (found by Fuzz/run)")
    func controlCharacter() {
        #expect(
            ConfigFixture.problems(inDocument: "[\u{1F}") == [
                "/srv/gw.conf:1: the file contains the control character U+001F (allowed: \(Self.controlAllowed))"
            ])
        #expect(
            ConfigFixture.problems(inDocument: "# ok\n[server]\nlisten = \"a\u{7F}\"") == [
                "/srv/gw.conf:3: the file contains the control character U+007F (allowed: \(Self.controlAllowed))"
            ])
        let tabsAndCRLF = ConfigFixture.problems(inDocument: "[server]\r\n\tlisten = \"127.0.0.1:8443\"\r\n")
        #expect(
            !tabsAndCRLF.isEmpty && !tabsAndCRLF.contains { $0.contains("control character") }, "tabs and CRLF are fine: \(tabsAndCRLF)")
    }
}

extension ConfigLoaderTests {
    @Test("read as a reload reads it, a FIFO is refused at once instead of waiting for a writer")
    func regularOnly() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(at: directory) }
        let fifo = directory.appendingPathComponent("gateway.conf").path
        #expect(mkfifo(fifo, 0o600) == 0)
        let error = #expect(throws: ConfigErrors.self) { try ConfigLoader.text(path: fifo, regularOnly: true) }
        #expect(error?.problems.map(\.message) == ["not a regular file"])
        let file = directory.appendingPathComponent("file.conf").path
        try "[server]\n".write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try ConfigLoader.text(path: file, regularOnly: true) == "[server]\n")
    }
}
