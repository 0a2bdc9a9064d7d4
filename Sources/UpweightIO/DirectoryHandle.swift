import UpweightSupport

/// A directory held open by descriptor. Its entries are looked at and removed relative to the
/// descriptor (`fstatat`, `openat`, `unlinkat`), never by path: a directory renamed, swapped or
/// replaced by a symbolic link in the meantime cannot redirect a removal to someone else's files.
package final class DirectoryHandle {
    package let descriptor: Int32

    /// The directory at `path` (symbolic links on the way are followed: this is where we work).
    package init?(path: String) {
        descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if descriptor < 0 { return nil }
    }

    /// The directory `name` inside `parent`; nil when it is missing, not a directory or a symbolic link.
    package init?(name: String, in parent: DirectoryHandle) {
        descriptor = openat(parent.descriptor, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        if descriptor < 0 { return nil }
    }

    deinit { close(descriptor) }

    /// The names of the entries, without `.` and `..`.
    package func names() -> [String] {
        let copy = dup(descriptor)
        guard copy >= 0, let stream = fdopendir(copy) else {
            if copy >= 0 { close(copy) }
            return []
        }
        defer { closedir(stream) }
        rewinddir(stream)
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// The entry's own status (a symbolic link is reported as one, not followed); nil when missing.
    package func status(of name: String) -> stat? {
        var status = stat()
        return fstatat(descriptor, name, &status, AT_SYMLINK_NOFOLLOW) == 0 ? status : nil
    }

    /// The directory's own device and inode, to tell whether a name still refers to it.
    package var identity: (device: UInt, inode: UInt)? {
        var status = stat()
        return fstat(descriptor, &status) == 0 ? (UInt(status.st_dev), UInt(status.st_ino)) : nil
    }

    package func isRegularFile(_ name: String) -> Bool { status(of: name).map { ($0.st_mode & S_IFMT) == S_IFREG } ?? false }

    /// Up to `limit` bytes of the regular file `name` (not through a symbolic link); nil when it
    /// cannot be read or is larger.
    package func contents(of name: String, limit: Int) -> [UInt8]? {
        let file = openat(descriptor, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard file >= 0 else { return nil }
        defer { close(file) }
        var bytes = [UInt8](repeating: 0, count: limit + 1)
        var count = 0
        while count <= limit {
            let got = bytes.withUnsafeMutableBytes { read(file, $0.baseAddress! + count, limit + 1 - count) }
            if got < 0 && errno == EINTR { continue }
            guard got > 0 else { break }
            count += got
        }
        return count <= limit ? Array(bytes[..<count]) : nil
    }

    /// Removes the file `name` (a symbolic link itself, never its target).
    @discardableResult package 
    func removeFile(_ name: String) -> Bool { unlinkat(descriptor, name, 0) == 0 }

    /// Removes the directory `name` if it is empty.
    @discardableResult package 
    func removeEmptyDirectory(_ name: String) -> Bool { unlinkat(descriptor, name, AT_REMOVEDIR) == 0 }

    package func sync() { fsync(descriptor) }
}
