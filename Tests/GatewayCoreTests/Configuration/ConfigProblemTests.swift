import GatewayCore
import Testing

@Suite("Config problem rendering")
struct ConfigProblemTests {
    @Test("renders file, line, key path, message and what is allowed")
    func fullDescription() {
        let problem = ConfigProblem(file: "gw.conf", line: 4, keyPath: "tls.min_version", message: "unsupported value", allowed: "1.2, 1.3")
        #expect(problem.description == "gw.conf:4: tls.min_version: unsupported value (allowed: 1.2, 1.3)")
    }

    @Test("leaves out an unknown line and a missing allowed part")
    func shortDescription() {
        let problem = ConfigProblem(file: "gw.conf", line: nil, keyPath: "tls.certificate", message: "missing required key")
        #expect(problem.description == "gw.conf: tls.certificate: missing required key")
    }

    @Test("lists one problem per line")
    func errorsDescription() {
        let errors = ConfigErrors(problems: [
            ConfigProblem(file: "a", line: 1, keyPath: "x", message: "bad"),
            ConfigProblem(file: "a", line: 2, keyPath: "y", message: "worse"),
        ])
        #expect(errors.description == "a:1: x: bad\na:2: y: worse")
    }
}
