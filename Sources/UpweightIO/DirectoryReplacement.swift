import UpweightSupport
private import CSystem

extension Files {
    /// Replaces directory `path` with one holding `files` (name → bytes) in one atomic step: the new
    /// directory is built and synced beside it (`NAME.tmp-PID`), then swapped in with
    /// renameat2(RENAME_EXCHANGE). Only what `OutputPath.checkReplaceable` allows is replaced, and
    /// the previous directory is emptied through its descriptor, of Upweight's file names only.
    public static func replaceDirectory(_ path: String, with files: [(name: String, bytes: [UInt8])], flag: String = "--out") throws {
        let (parentPath, name) = try OutputPath.split(path, flag: flag)
        try createParentDirectories(of: parentPath + "/" + name)
        guard let parent = DirectoryHandle(path: parentPath) else {
            throw writeFailure(path, "open its parent directory", errno)
        }
        removeAbandonedStaging(of: name, in: parent)
        try OutputPath.checkReplaceable(name, in: parent, path: path, flag: flag)
        let previous = DirectoryHandle(name: name, in: parent)  // nil: nothing there
        let stagingName = "\(name).tmp-\(getpid())"
        guard mkdirat(parent.descriptor, stagingName, 0o755) == 0, let staging = DirectoryHandle(name: stagingName, in: parent) else {
            throw writeFailure(path, "create \(parentPath)/\(stagingName)", errno)
        }
        do {
            for file in files { try writeAndSync(file.bytes, to: file.name, in: staging.descriptor, naming: "\(path)/\(file.name)") }
            staging.sync()
            if previous != nil {
                guard upweight_exchange_at(parent.descriptor, stagingName, name) == 0 else {
                    throw writeFailure(path, "replace the model directory", errno)
                }
            } else {
                guard renameat(parent.descriptor, stagingName, parent.descriptor, name) == 0 else {
                    throw writeFailure(path, "create", errno)
                }
            }
        } catch {
            empty(staging, named: stagingName, in: parent)
            throw error
        }
        if let previous { empty(previous, named: stagingName, in: parent) }  // swapped to the staging name
        parent.sync()
    }

    /// Removes Upweight's files from `directory`, then the directory itself (`name` in `parent`)
    /// if it is empty and still that same directory. Anything else stays where it is.
    private static func empty(_ directory: DirectoryHandle, named name: String, in parent: DirectoryHandle) {
        for file in OutputPath.modelFileNames where directory.isRegularFile(file) { directory.removeFile(file) }
        guard let identity = directory.identity, let entry = parent.status(of: name),
              (entry.st_mode & S_IFMT) == S_IFDIR, UInt(entry.st_dev) == identity.device, UInt(entry.st_ino) == identity.inode
        else { return }
        parent.removeEmptyDirectory(name)
    }

    /// Removes `NAME.tmp-PID` staging directories that a killed process left behind (its PID no
    /// longer runs), and our own from an earlier failed attempt — only real directories (not
    /// links) that hold nothing but Upweight's files.
    package static func removeAbandonedStaging(of name: String, in parent: DirectoryHandle) {
        for entry in abandonedTemporaries(of: name, in: parent) {
            guard let staging = DirectoryHandle(name: entry, in: parent),
                  staging.names().allSatisfy({ OutputPath.modelFileNames.contains($0) && staging.isRegularFile($0) })
            else { continue }
            empty(staging, named: entry, in: parent)
        }
    }
}
