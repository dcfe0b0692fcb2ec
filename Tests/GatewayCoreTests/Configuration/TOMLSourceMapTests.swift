import Testing

@testable import GatewayCore

@Suite("TOML source map")
struct TOMLSourceMapTests {
    @Test("finds keys under their table headers")
    func tablesAndKeys() {
        let map = TOMLSourceMap(
            text: """
                # comment
                [server]
                listen = "127.0.0.1:8443"  # trailing comment

                [tls]
                certificate = "a"
                """)
        #expect(map.line(of: "server") == 2)
        #expect(map.line(of: "server.listen") == 3)
        #expect(map.line(of: "tls.certificate") == 6)
    }

    @Test("skips a byte order mark and counts CRLF line ends")
    func byteOrderMarkAndCRLF() {
        let map = TOMLSourceMap(text: "\u{FEFF}[server]\r\nlisten = \"x\"\r\n\r\n[tls]\r\nhsts = true\r\n")
        #expect(map.line(of: "server") == 1)
        #expect(map.line(of: "server.listen") == 2)
        #expect(map.line(of: "tls.hsts") == 5)
    }

    @Test("falls back to the enclosing table for a key that is not in the text")
    func missingKey() {
        let map = TOMLSourceMap(text: "\n[tls]\ncertificate = \"a\"\n")
        #expect(map.line(of: "tls.private_key") == 2)
        #expect(map.line(of: "jwt.leeway") == nil)
    }

    @Test("numbers array-of-tables entries in order, including nested ones")
    func arrayOfTables() {
        let map = TOMLSourceMap(
            text: """
                [[route]]
                path = "/a"
                [[route]]
                path = "/b"
                [[route.header]]
                name = "x"
                [route.limits]
                rate = 1
                """)
        #expect(map.line(of: "route[0].path") == 2)
        #expect(map.line(of: "route[1]") == 3)
        #expect(map.line(of: "route[1].path") == 4)
        #expect(map.line(of: "route[1].header[0].name") == 6)
        #expect(map.line(of: "route[1].limits.rate") == 8)
    }

    @Test("counts lines inside multi-line strings and arrays")
    func multiLineValues() {
        let map = TOMLSourceMap(
            text: #"""
                a = """
                one "quoted" line
                two ""lines"""
                b = '''
                x'''
                c = [
                  "p", # "not a string
                  ["q",
                   'r'],
                ]
                d = "escaped \" quote [ {"
                e = 1
                """#)
        #expect(map.line(of: "b") == 4)
        #expect(map.line(of: "c") == 6)
        #expect(map.line(of: "c[0]") == 7)
        #expect(map.line(of: "c[1][1]") == 9)
        #expect(map.line(of: "d") == 11)
        #expect(map.line(of: "e") == 12)
    }

    @Test("finds keys inside inline tables and dotted keys")
    func inlineTablesAndDottedKeys() {
        let map = TOMLSourceMap(
            text: """
                tls = { certificate = "a", "private_key" = "b" }
                server.listen = "x"
                upstream = [
                  { name = "a" },
                  { name = "b", url = "u" },
                ]
                """)
        #expect(map.line(of: "tls.private_key") == 1)
        #expect(map.line(of: "server.listen") == 2)
        #expect(map.line(of: "upstream[1].url") == 5)
    }
}
