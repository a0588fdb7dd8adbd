import Foundation
import KamSyntax

/// A read-only memory map of a file. Parsed ranges can be released (the kernel drops the
/// pages and reads them again only if they are touched), so loading a file much larger
/// than its parsed columns does not hold both in memory.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    public let base: UnsafeMutableRawPointer?
    public let count: Int

    public init?(path: String) {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        count = Int(st.st_size)
        if count == 0 {
            base = nil
            return
        }
        let p = mmap(nil, count, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let p, p != MAP_FAILED else { return nil }
        base = p
    }

    deinit {
        if let base { munmap(base, count) }
    }

    public func withBytes<T>(_ body: (UnsafeBufferPointer<UInt8>) throws -> T) rethrows -> T {
        guard let base else { return try body(UnsafeBufferPointer(start: nil, count: 0)) }
        return try body(UnsafeBufferPointer(start: base.assumingMemoryBound(to: UInt8.self), count: count))
    }

    /// Lets the kernel drop the pages wholly inside `start..<end`.
    public func release(_ start: Int, _ end: Int) {
        guard let base else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let lo = (start + page - 1) / page * page
        let hi = end / page * page
        if hi > lo { madvise(base + lo, hi - lo, MADV_DONTNEED) }
    }
}
