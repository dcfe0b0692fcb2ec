import Testing

@testable import GatewayCore

@Suite("Config [[tls.certificates]]")
struct TLSCertificatesConfigTests {
    static let twoCertificates = """
        [tls]
        min_version = "1.3"

        [[tls.certificates]]
        certificate = "default.crt"
        private_key = "default.key"

        [[tls.certificates]]
        certificate = "/etc/gateway/api.crt"
        private_key = "/etc/gateway/api.key"
        server_names = ["API.example.com", "*.api.example.com"]
        """

    @Test("reads the entries: the first is the default, names are lowercased, omitted names come from the certificate")
    func entries() throws {
        let tls = try ConfigFixture.config(Self.twoCertificates).tls
        #expect(
            tls.certificates == [
                TLSCertificateConfig(
                    certificatePath: "/srv/default.crt", privateKeyPath: "/srv/default.key", configPath: "tls.certificates[0]"),
                TLSCertificateConfig(
                    certificatePath: "/etc/gateway/api.crt", privateKeyPath: "/etc/gateway/api.key",
                    serverNames: [ServerName("api.example.com")!, ServerName("*.api.example.com")!], configPath: "tls.certificates[1]"),
            ])
        #expect(tls.certificatePath == "/srv/default.crt")
        #expect(tls.minVersion == .v1_3)
    }

    @Test("the single certificate keys stay the simple case")
    func singleCertificate() throws {
        let tls = try ConfigFixture.config("[tls]\ncertificate = \"a.crt\"\nprivate_key = \"a.key\"").tls
        #expect(tls.certificates == [TLSCertificateConfig(certificatePath: "/srv/a.crt", privateKeyPath: "/srv/a.key")])
    }

    @Test("refuses the single certificate keys beside [[tls.certificates]]")
    func bothKinds() {
        #expect(
            ConfigFixture.problems(
                "[tls]\ncertificate = \"a.crt\"\nprivate_key = \"a.key\"\n\n[[tls.certificates]]\ncertificate = \"b.crt\"\nprivate_key = \"b.key\""
            ) == [
                "/srv/gw.conf:2: tls.certificate: with [[tls.certificates]], set this in each certificate entry instead",
                "/srv/gw.conf:3: tls.private_key: with [[tls.certificates]], set this in each certificate entry instead",
            ])
    }

    @Test("an entry needs its certificate and key, and there must be one entry")
    func requiredKeys() {
        #expect(
            ConfigFixture.problems("[tls]\n\n[[tls.certificates]]\ncertificate = \"b.crt\"") == [
                "/srv/gw.conf:3: tls.certificates[0].private_key: missing required key"
            ])
        #expect(
            ConfigFixture.problems("[tls]\ncertificates = []") == [
                "/srv/gw.conf:2: tls.certificates: at least one [[tls.certificates]] is required"
            ])
        #expect(
            ConfigFixture.problems("[tls]\n\n[[tls.certificates]]\ncertificate = \"b.crt\"\nprivate_key = \"b.key\"\nsni = \"x\"") == [
                "/srv/gw.conf:6: tls.certificates[0].sni: unknown key (allowed: certificate, private_key, server_names)"
            ])
    }

    @Test("refuses server names that are not DNS names or one leading wildcard label")
    func invalidNames() {
        let allowed = "a DNS name such as api.example.com, or *.example.com for the names one label under it"
        let names = #"["api_1.example.com", "a.*.example.com", "*.com", "10.0.0.1", "-a.example.com", "", "api.example.com."]"#
        #expect(
            ConfigFixture.problems(
                "[tls]\n\n[[tls.certificates]]\ncertificate = \"b.crt\"\nprivate_key = \"b.key\"\nserver_names = \(names)")
                == [
                    #"/srv/gw.conf:6: tls.certificates[0].server_names[0]: "api_1.example.com" is not a DNS name (allowed: \#(allowed))"#,
                    #"/srv/gw.conf:6: tls.certificates[0].server_names[1]: "a.*.example.com" is not a DNS name (allowed: \#(allowed))"#,
                    #"/srv/gw.conf:6: tls.certificates[0].server_names[2]: "*.com" would cover a whole top-level domain (allowed: \#(allowed))"#,
                    #"/srv/gw.conf:6: tls.certificates[0].server_names[3]: "10.0.0.1" is an IP address, which SNI never carries (allowed: \#(allowed))"#,
                    #"/srv/gw.conf:6: tls.certificates[0].server_names[4]: "-a.example.com" is not a DNS name (allowed: \#(allowed))"#,
                    #"/srv/gw.conf:6: tls.certificates[0].server_names[5]: "" is not a DNS name (allowed: \#(allowed))"#,
                    #"/srv/gw.conf:6: tls.certificates[0].server_names[6]: "api.example.com." is not a DNS name (allowed: \#(allowed))"#,
                ])
        #expect(
            ConfigFixture.problems("[tls]\n\n[[tls.certificates]]\ncertificate = \"b.crt\"\nprivate_key = \"b.key\"\nserver_names = []")
                == [
                    "/srv/gw.conf:6: tls.certificates[0].server_names: must name at least one server name; leave it out to take them from the certificate"
                ])
    }

    @Test("refuses a name listed twice, in any case")
    func duplicateNames() {
        let text = """
            [tls]

            [[tls.certificates]]
            certificate = "a.crt"
            private_key = "a.key"
            server_names = ["api.example.com"]

            [[tls.certificates]]
            certificate = "b.crt"
            private_key = "b.key"
            server_names = ["*.example.com", "API.Example.com"]
            """
        #expect(
            ConfigFixture.problems(text) == [
                #"/srv/gw.conf:11: tls.certificates[1].server_names[1]: "api.example.com" is already listed by tls.certificates[0]"#
            ])
    }

    @Test("a wildcard covers exactly one label; matching is on lowercased names")
    func wildcardCoverage() {
        #expect(ServerName.name("*.example.com", covers: "api.example.com"))
        #expect(!ServerName.name("*.example.com", covers: "example.com"))
        #expect(!ServerName.name("*.example.com", covers: "a.b.example.com"))
        #expect(!ServerName.name("*.example.com", covers: ".example.com"))
        #expect(ServerName.name("*.example.com", covers: "*.example.com"))
        #expect(!ServerName.name("api.example.com", covers: "*.example.com"))
        #expect(ServerName("API.Example.COM")?.name == "api.example.com")
        #expect(ServerName("localhost") != nil)
    }
}
