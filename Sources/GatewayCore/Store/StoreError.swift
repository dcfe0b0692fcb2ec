/// Why the store could not be opened or a stored row could not be read.
public struct StoreError: Error, CustomStringConvertible {
    private enum Code {
        case cannotCreateDirectory(path: String, reason: String)
        case cannotCreateFile(path: String, reason: String)
        case newerSchema(path: String)
        case unreadableRow(table: String, reason: String)
        case backupExists(path: String)
    }

    private let code: Code

    static func cannotCreateDirectory(_ path: String, reason: String) -> StoreError {
        StoreError(code: .cannotCreateDirectory(path: path, reason: reason))
    }

    static func cannotCreateFile(_ path: String, reason: String) -> StoreError {
        StoreError(code: .cannotCreateFile(path: path, reason: reason))
    }

    static func newerSchema(_ path: String) -> StoreError {
        StoreError(code: .newerSchema(path: path))
    }

    static func unreadableRow(in table: String, _ reason: String) -> StoreError {
        StoreError(code: .unreadableRow(table: table, reason: reason))
    }

    static func backupExists(_ path: String) -> StoreError {
        StoreError(code: .backupExists(path: path))
    }

    public var description: String {
        switch code {
        case .cannotCreateDirectory(let path, let reason):
            "cannot create the store's directory \(path): \(reason)"
        case .cannotCreateFile(let path, let reason):
            "cannot create the store file \(path): \(reason)"
        case .newerSchema(let path):
            "the store \(path) was written by a newer gateway; upgrade this one"
        case .unreadableRow(let table, let reason):
            "unreadable row in \(table): \(reason)"
        case .backupExists(let path):
            "\(path) already exists; a backup never replaces a file"
        }
    }
}
