import CompressNIO
import Foundation
import NIOCore

/// gzip for CloudTrail's `.json.gz` files, through compress-nio (zlib).
enum Gzip {
    static func compress(_ bytes: [UInt8]) throws -> [UInt8] {
        var input = ByteBuffer(bytes: bytes)
        var output = try input.compress(with: .gzip())
        return output.readBytes(length: output.readableBytes) ?? []
    }

    /// At most 1 GiB of output, so that a crafted file cannot exhaust memory.
    static func decompress(_ bytes: [UInt8]) throws -> [UInt8] {
        var input = ByteBuffer(bytes: bytes)
        var output = try input.decompress(with: .gzip(), maxSize: 1 << 30)
        return output.readBytes(length: output.readableBytes) ?? []
    }
}

/// Files written so that they survive a crash once the call returns: written to a temporary
/// name, synced, renamed into place, and the directory synced.
enum DurableFile {
    static func write(_ bytes: [UInt8], to url: URL) throws {
        let directory = url.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).tmp")
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw ExportError("cannot create \(temporary.path): \(String(cString: strerror(errno)))") }
        let written = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == bytes.count, synced else { throw ExportError("cannot write \(temporary.path)") }
        guard rename(temporary.path, url.path) == 0 else { throw ExportError("cannot rename \(temporary.path): \(String(cString: strerror(errno)))") }
        let dirFD = open(directory.path, O_RDONLY)
        if dirFD >= 0 {
            _ = fsync(dirFD)
            close(dirFD)
        }
    }
}

public struct ExportError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
