import Foundation
import Testing

@testable import GatewayCore

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Log sink: bounded, batched writes to a descriptor")
struct LogSinkTests {
    @Test("lines over the limit are dropped and counted in warning lines of the same format")
    func dropsAreReportedInFormat() throws {
        var ends: [CInt] = [0, 0]
        try #require(pipe(&ends) == 0)
        defer { close(ends[0]) }
        let sink = LogSink(descriptor: ends[1], limit: 100)
        sink.useFormat(.json)
        let line = #"{"msg":"abcdefghijklmnopq"}"# + "\n"
        #expect(line.utf8.count == 28)
        // Three lines fit in 100 bytes, and the first write is 5 ms after the first line.
        for _ in 0..<1_000 { sink.write(line) }
        sink.flush()
        close(ends[1])
        let output = String(decoding: FileHandle(fileDescriptor: ends[0]).readDataToEndOfFile(), as: UTF8.self)
        let lines = output.split(separator: "\n")
        let kept = lines.filter { $0 + "\n" == line }
        let notices = try lines.filter { $0 + "\n" != line }.map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: String], "\($0)")
        }
        #expect(kept.count >= 3 && !notices.isEmpty, "\(output)")
        #expect(notices.allSatisfy { $0["level"] == "warning" && $0["msg"] == "log lines dropped: stdout was not read fast enough" })
        #expect(notices.map { Int($0["gateway.dropped_lines"] ?? "") ?? 0 }.reduce(0, +) == 1_000 - kept.count)
    }
}
