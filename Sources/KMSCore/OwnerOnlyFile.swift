import Foundation

/// Files holding a secret (the root key, a TLS private key) must be readable by their owner
/// alone: the one check both make before reading one.
public enum OwnerOnlyFile {
    /// The file's permission bits (`0o644`) when its group or others may read or write it; nil
    /// when only its owner may, or when it can't be examined (reading it then says why).
    public static func exposedMode(of path: String) -> Int? {
        var status = stat()
        guard stat(path, &status) == 0, status.st_mode & 0o077 != 0 else { return nil }
        return Int(status.st_mode & 0o777)
    }
}
