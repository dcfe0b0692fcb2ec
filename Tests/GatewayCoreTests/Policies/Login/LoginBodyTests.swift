import Foundation
import NIOCore
import Testing

@testable import GatewayCore

@Suite("Login body: the username and the size cap")
struct LoginBodyTests {
    private func username(_ json: String) throws(GatewayProblem) -> String {
        try LoginBody.username(in: Data(json.utf8))
    }

    @Test("reads the username string of a top-level object")
    func username() throws {
        #expect(try username(#"{"username":"alice","password":"x"}"#) == "alice")
        #expect(try username(#"{"password":"x", "user\u006eame" : "bob"}"#) == "bob")
    }

    @Test(
        "refuses any other body: the username lock could not apply to it",
        arguments: [
            "", "not json", "[]", #"["username"]"#, #""alice""#, #"{"username":5}"#, #"{"username":null}"#,
            #"{"user":{"username":"alice"}}"#, #"{"username":"alice""#, #"{"username":""}"#,
        ])
    func noUsername(body: String) {
        #expect(throws: LoginBody.unreadable) { try username(body) }
    }

    @Test("refuses two members that differ only in letter case, which some frameworks bind alike")
    func caseVariants() throws {
        #expect(throws: LoginBody.ambiguous) { try username(#"{"UserName":"victim","username":"decoy"}"#) }
        #expect(try username(#"{"Username":"alice"}"#) == "alice")
    }

    @Test("a username is named by a keyed fingerprint: neither the name nor its plain hash")
    func keyedFingerprint() throws {
        let fingerprint = try #require(LoginKeys(clientAddress: "192.0.2.1", username: "alice").username)
        #expect(fingerprint.count == 16)
        #expect(!fingerprint.contains("alice"))
        #expect(!AuditEvent.fingerprint(ofToken: "alice").hasPrefix(fingerprint.prefix(12)))
        let otherInstall = LoginKeys(clientAddress: "192.0.2.1", username: "alice", fingerprint: .ephemeral()).username
        #expect(otherInstall != fingerprint)
    }

    @Test("usernames that backends commonly treat alike share one key")
    func normalisation() {
        let key = LoginKeys(clientAddress: "192.0.2.1", username: "victim").username
        for variant in [" Victim ", "VICTIM", "víctim", "\u{FF56}\u{FF49}\u{FF43}\u{FF54}\u{FF49}\u{FF4D}"] {
            #expect(LoginKeys(clientAddress: "192.0.2.1", username: variant).username == key, "\(variant)")
        }
    }

    @Test("refuses a username given twice with different values, since parsers disagree on which counts")
    func duplicateUsername() throws {
        #expect(throws: LoginBody.ambiguous) { try username(#"{"username":"victim","username":"decoy"}"#) }
        #expect(throws: LoginBody.ambiguous) { try username(#"{"username":1,"username":"decoy"}"#) }
        #expect(throws: LoginBody.ambiguous) { try username(#"{"username":"victim","username":{}}"#) }
    }

    @Test(
        "refuses any repeated member name, even one that agrees or is not the username: parsers read them differently",
        arguments: [
            #"{"username":"alice","username":"alice"}"#, #"{"username":"alice","password":"x","password":"y"}"#,
            #"{"username":"alice","extra":{"role":"user","role":"admin"}}"#, #"{"username":"alice","p\u0061ssword":"x","password":"y"}"#,
        ])
    func repeatedMember(body: String) {
        #expect(throws: LoginBody.ambiguous) { try username(body) }
    }

    @Test("holds the body up to 8 KiB, and reads the username of a body that size")
    func cap() throws {
        #expect(LoginPolicy().heldBodyLimit == 8 * 1024)
        let attempt = LoginAttempt(clientAddress: "192.0.2.1")
        var body = ByteBuffer(repeating: 0x20, count: 8 * 1024 - 20)
        body.writeString(#"{"username":"alice"}"#)
        #expect(body.readableBytes == LoginPolicy().heldBodyLimit)
        #expect(try attempt.completeBody(body, fingerprint: .test) == LoginKeys(clientAddress: "192.0.2.1", username: "alice"))
        #expect(attempt.keys?.username == UsernameFingerprint.test.of("alice"))
    }
}
