import GatewayCore
import Testing

@Suite("Config durations and sizes")
struct DurationAndSizeTests {
    @Test(
        "parses durations with every unit",
        arguments: [
            ("500ms", Duration.milliseconds(500)),
            ("30s", .seconds(30)),
            ("10m", .seconds(600)),
            ("24h", .seconds(86_400)),
            ("30d", .seconds(30 * 86_400)),
            ("1ms", .milliseconds(1)),
        ] as [(String, Duration)])
    func parsesDuration(text: String, expected: Duration) {
        #expect(Duration(configValue: text) == expected)
    }

    @Test(
        "refuses malformed, zero and overflowing durations",
        arguments: [
            "", "30", "s", "0s", "0ms", "-5s", "+5s", "1.5s", "5 s", " 5s", "5S", "5sec", "5us", "1h30m",
            "99999999999999999999s", "999999999999999d",
        ])
    func refusesDuration(text: String) {
        #expect(Duration(configValue: text) == nil)
    }

    @Test(
        "writes durations in the largest exact unit",
        arguments: [
            (.seconds(31_536_000), "365d"),
            (.seconds(90), "90s"),
            (.seconds(7_200), "2h"),
            (.milliseconds(1_500), "1500ms"),
            (.seconds(300), "5m"),
        ] as [(Duration, String)])
    func durationDescription(duration: Duration, expected: String) {
        #expect(duration.configDescription == expected)
    }

    @Test(
        "parses sizes with every unit",
        arguments: [
            ("0B", 0),
            ("512B", 512),
            ("16KiB", 16 * 1024),
            ("1MiB", 1024 * 1024),
            ("2GiB", 2 * 1024 * 1024 * 1024),
        ] as [(String, Int64)])
    func parsesSize(text: String, expected: Int64) {
        #expect(ByteSize(configValue: text)?.bytes == expected)
    }

    @Test(
        "refuses malformed and overflowing sizes",
        arguments: [
            "", "16384", "KiB", "16KB", "16kib", "16 KiB", "1.5MiB", "-1B", "16K", "1TiB", "9999999999999GiB",
        ])
    func refusesSize(text: String) {
        #expect(ByteSize(configValue: text) == nil)
    }

    @Test(
        "writes sizes in the largest exact unit",
        arguments: [
            (16 * 1024, "16KiB"),
            (1_536, "1536B"),
            (1024 * 1024, "1MiB"),
            (0, "0B"),
        ] as [(Int64, String)])
    func sizeDescription(bytes: Int64, expected: String) {
        #expect(ByteSize(bytes: bytes).description == expected)
    }
}
