import Foundation
import Logging

/// A swift-log handler writing one line per message to a ``LogSink``, as text, JSON or logfmt.
public struct LineLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    private let label: String
    private let format: LogFormat
    private let sink: LogSink
    private let sharedLevel: LogLevelSetting
    /// A level set on one logger (`logger.logLevel = …`), which then no longer follows the shared one.
    private var ownLevel: Logger.Level?

    public init(label: String, format: LogFormat, level: LogLevelSetting, sink: LogSink = .standardOutput) {
        self.label = label
        self.format = format
        self.sharedLevel = level
        self.sink = sink
    }

    public var logLevel: Logger.Level {
        get { ownLevel ?? sharedLevel.level }
        set { ownLevel = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields = event.metadata ?? [:]
        if !metadata.isEmpty { fields.merge(metadata) { event, _ in event } }
        sink.write(Self.line(format: format, time: Date(), level: event.level, label: label, message: "\(event.message)", metadata: fields))
    }

    /// One formatted line, newline included; metadata keys in sorted order.
    static func line(
        format: LogFormat, time: Date, level: Logger.Level, label: String, message: String, metadata: Logger.Metadata
    ) -> String {
        let timestamp = Self.timestamp(time)
        let keys = metadata.keys.sorted()
        switch format {
        case .text:
            var line = "\(timestamp) \(level) \(Self.singleLine(label)): \(Self.singleLine(message))"
            for key in keys { line += " \(key)=\(Self.logfmtValue(metadata[key]!.flatText))" }
            return line + "\n"
        case .logfmt:
            var line = "time=\(timestamp) level=\(level) logger=\(Self.logfmtValue(label)) msg=\(Self.logfmtValue(message))"
            for key in keys { line += " \(key)=\(Self.logfmtValue(metadata[key]!.flatText))" }
            return line + "\n"
        case .json:
            var line =
                #"{"time":"\#(timestamp)","level":"\#(level)","logger":\#(Self.jsonString(label)),"msg":\#(Self.jsonString(message))"#
            for key in keys { line += ",\(Self.jsonString(key)):\(Self.json(metadata[key]!))" }
            return line + "}\n"
        }
    }

    /// RFC 3339 in UTC with milliseconds.
    static func timestamp(_ date: Date) -> String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = time_t(milliseconds / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var text = ""
        text.reserveCapacity(24)
        func append(_ value: Int32, digits: Int) {
            let decimal = String(value)
            text += String(repeating: "0", count: max(0, digits - decimal.count)) + decimal
        }
        append(parts.tm_year + 1900, digits: 4)
        text += "-"
        append(parts.tm_mon + 1, digits: 2)
        text += "-"
        append(parts.tm_mday, digits: 2)
        text += "T"
        append(parts.tm_hour, digits: 2)
        text += ":"
        append(parts.tm_min, digits: 2)
        text += ":"
        append(parts.tm_sec, digits: 2)
        text += "."
        append(Int32(milliseconds % 1000), digits: 3)
        return text + "Z"
    }

    /// A logfmt value: bare when it is a plain word, else quoted with `"` and `\` escaped and
    /// control characters written as escapes (so no value can start a new line).
    static func logfmtValue(_ text: String) -> String {
        let plain =
            !text.isEmpty && text.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value < 0x7F && $0 != "\"" && $0 != "=" && $0 != "\\" }
        return plain ? text : jsonString(text)
    }

    /// `text` as it is when it has no control or line-separating character, else as a JSON string
    /// literal: a message (which may carry a client's bytes) cannot start a line of its own.
    static func singleLine(_ text: String) -> String {
        text.unicodeScalars.contains(where: isLineUnsafe) ? jsonString(text) : text
    }

    /// C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
    private static func isLineUnsafe(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.value == 0x2028 || scalar.value == 0x2029
    }

    /// A JSON string literal.
    static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where isLineUnsafe(scalar):
                out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    private static func json(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let text): jsonString(text)
        case .stringConvertible(let convertible): jsonString(convertible.description)
        case .array(let items): "[" + items.map(json).joined(separator: ",") + "]"
        case .dictionary(let items): "{" + items.keys.sorted().map { "\(jsonString($0)):\(json(items[$0]!))" }.joined(separator: ",") + "}"
        }
    }
}

extension Logger.MetadataValue {
    /// The value as one string, for text and logfmt lines.
    fileprivate var flatText: String {
        switch self {
        case .string(let text): text
        case .stringConvertible(let convertible): convertible.description
        case .array(let items): "[" + items.map(\.flatText).joined(separator: ",") + "]"
        case .dictionary(let items): "{" + items.keys.sorted().map { "\($0)=\(items[$0]!.flatText)" }.joined(separator: ",") + "}"
        }
    }
}
