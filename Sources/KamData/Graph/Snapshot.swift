import CPlatform
import Foundation
import KamSyntax

/// A columnar snapshot of a loaded dataset: the typed columns, their dictionaries and null
/// bitmaps, the link arrays and the id indexes, written after a run parses the files and
/// mapped back on the next run, which then parses nothing.
///
///     let key = Snapshot.key(dataset: "crm/", manifest: nil, extra: "")
///     if let (graph, report) = Snapshot.read(Snapshot.path(for: key), key: key) { ... }
///     try Snapshot.write(graph, report, key: key, to: Snapshot.path(for: key))
///
/// A snapshot is trusted only when its key is the one the sources give now: each file's
/// path, size, modification and change times, inode, and a check of its content (its
/// first and last 64 KiB and 16 blocks between), the manifest's whole text, the kam binary
/// itself and the load's options. Anything else (another key, a different format version,
/// a file cut short, a count that does not fit the bytes that are there) reads as no
/// snapshot, and the caller parses the sources again. A snapshot is written to a temporary
/// file renamed into place when it is whole, so a run killed while writing leaves none.
public enum Snapshot {
    static let magic: [UInt8] = Array("KAMSNAP\u{1}".utf8)
    static let trailer: [UInt8] = Array("KAMSNEND".utf8)
    /// Bumped whenever the layout below or what a load computes changes.
    public static let formatVersion: UInt32 = 8

    // MARK: where

    /// The cache directory: `$XDG_CACHE_HOME/kam`, else `~/.cache/kam`.
    public static var directory: String {
        let env = ProcessInfo.processInfo.environment
        if let x = env["XDG_CACHE_HOME"], !x.isEmpty, x.hasPrefix("/") { return x + "/kam" }
        return (env["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSTemporaryDirectory()) + "/.cache/kam"
    }

    /// The snapshot file of a dataset (one per dataset and manifest; a new key replaces it).
    public static func path(dataset: String, manifest: String?) -> String {
        let name = absolute(dataset) + "\u{0}" + (manifest.map(absolute) ?? "")
        return directory + "/snapshots/" + String(fnv(Array(name.utf8)), radix: 16) + ".snap"
    }

    static func absolute(_ p: String) -> String {
        let url = URL(fileURLWithPath: p)
        return url.standardizedFileURL.resolvingSymlinksInPath().path
    }

    // MARK: the key

    /// The key of a dataset as its sources are now, or nil when it cannot be snapshotted
    /// (stdin, a database, a path that is not there).
    public static func key(dataset: String, manifest: String?, extra: String) -> String? {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dataset, isDirectory: &isDir) else { return nil }
        var parts = ["kam snapshot \(formatVersion)", "binary " + (fileStamp("/proc/self/exe", content: false) ?? "?"), "options " + extra]
        if isDir.boolValue {
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: dataset) else { return nil }
            parts.append("directory " + absolute(dataset))
            for n in names.sorted() where !n.hasPrefix(".") {
                let p = dataset + "/" + n
                var sub: ObjCBool = false
                guard FileManager.default.fileExists(atPath: p, isDirectory: &sub), !sub.boolValue else { continue }
                guard let stamp = fileStamp(p, content: true) else { return nil }
                parts.append(n + " " + stamp)
            }
        } else {
            guard let stamp = fileStamp(dataset, content: true) else { return nil }
            parts.append("file " + absolute(dataset) + " " + stamp)
            // The manifest beside a single file is read too: it belongs to the key.
            let dir = (dataset as NSString).deletingLastPathComponent
            for n in Manifest.names {
                let p = (dir.isEmpty ? "." : dir) + "/" + n
                if let stamp = fileStamp(p, content: true) { parts.append(n + " " + stamp) }
            }
        }
        if let m = manifest {
            guard let text = FileManager.default.contents(atPath: m) else { return nil }
            parts.append("manifest " + absolute(m) + " " + String(fnv(Array(text)), radix: 16))
        }
        return parts.joined(separator: "\n")
    }

    /// Size, times, inode and (with `content`) a check of the bytes of a regular file.
    static func fileStamp(_ path: String, content: Bool) -> String? {
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        var s = "size \(st.st_size) mtime \(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec) ctime \(st.st_ctim.tv_sec).\(st.st_ctim.tv_nsec) inode \(st.st_dev):\(st.st_ino)"
        if content {
            guard let check = sample(path, size: Int(st.st_size)) else { return nil }
            s += " check " + String(check, radix: 16)
        }
        return s
    }

    /// A hash of the first and last 64 KiB of a file and of 16 blocks of 4 KiB spread
    /// between (the whole file when it is small).
    static func sample(_ path: String, size: Int) -> UInt64? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var ranges: [(Int, Int)] = []
        if size <= 256 * 1024 {
            ranges = [(0, size)]
        } else {
            ranges.append((0, 65536))
            for k in 1...16 { ranges.append((size / 17 * k, 4096)) }
            ranges.append((size - 65536, 65536))
        }
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        var buffer = [UInt8](repeating: 0, count: 65536)
        for (offset, length) in ranges {
            var done = 0
            while done < length {
                let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, min(length - done, 65536), off_t(offset + done)) }
                if n < 0 { return nil }
                if n == 0 { break }
                for i in 0..<n { h = (h ^ UInt64(buffer[i])) &* 0x100_0000_01b3 }
                done += n
            }
        }
        return h
    }

    /// The metadata checksum's step over some bytes (FNV-1a, byte by byte: the metadata is
    /// small once the arrays are out of it).
    @inline(__always) static func fnvStep(_ h: UInt64, _ p: UnsafeRawBufferPointer) -> UInt64 {
        var h = h
        for x in p { h = (h ^ UInt64(x)) &* 0x100_0000_01b3 }
        return h
    }

    static func fnv(_ bytes: [UInt8]) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h
    }

    // MARK: writing

    /// Whether a loaded graph can be written: every column typed or of plain values, no
    /// warning that points into a source text (those are rendered from the text).
    public static func canWrite(_ graph: AccountGraph, _ report: DatasetLoader.Report) -> Bool {
        if report.warnings.contains(where: { $0.range != nil || $0.source != nil }) { return false }
        for e in graph.entities {
            if case .values = e.idIndex { return false }
            for c in e.table.columns {
                if case .values(let vs) = c.storage, !vs.allSatisfy({ Writer.plain($0) }) { return false }
            }
        }
        return true
    }

    /// Writes the snapshot to a temporary file beside `path`, then renames it into place.
    /// Each array's bytes are followed by their checksum, and everything else (the counts,
    /// names, dictionaries, the arrays' checksums) is checked by one checksum at the end.
    public static func write(_ graph: AccountGraph, _ report: DatasetLoader.Report, key: String, to path: String) throws {
        try Stream(path: path).finish(graph, report, key: key)
    }

    /// A snapshot written while its dataset loads: each table as soon as it is parsed
    /// (`add`), so the disk takes one table while the cores parse the next and link them,
    /// then the rest (`finish`: the links, the indexes, the names and the key) once the
    /// graph is whole. The layout:
    ///
    ///     magic, version
    ///     1, table; 1, table; ...; 0              the tables, in the order they were written
    ///     key, label, summary, warnings,          the graph (the key's offset is in the tail)
    ///     entities: name, file, ..., table slot, name, links, id index
    ///     trailer, metadata checksum, key offset, length
    ///
    ///     let stream = try Snapshot.Stream(path: path)
    ///     stream.add(ordersTable)                 // while the other files parse
    ///     try stream.finish(graph, report, key: key)
    ///
    /// An entity's table is the one written early when it holds the very same arrays (the
    /// linker gives each table its entity's name and origin, sharing the columns); any other
    /// table, say one a derived column widened, is written by `finish`. Nothing is in place
    /// until `finish` renames the file; `abandon` (or dropping the stream) removes it.
    public final class Stream: @unchecked Sendable {
        private let path: String
        private let temporary: String
        private var fd: Int32 = -1
        private var w: Writer?
        /// The tables written, held so the arrays they share with an entity's table stay
        /// where they are (an address is compared, and must not be reused).
        private var tables: [Table] = []

        public init(path: String) throws {
            self.path = path
            temporary = path + ".\(getpid()).tmp"
            let dir = (path as NSString).deletingLastPathComponent
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            // What a killed run left (NAME.PID.tmp of a process that is gone) is removed.
            let base = (path as NSString).lastPathComponent
            for f in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where f.hasPrefix(base + ".") && f.hasSuffix(".tmp") {
                let pid = f.dropFirst(base.count + 1).dropLast(4)
                if let p = Int32(pid), p != getpid(), kill(p, 0) != 0, errno == ESRCH { unlink(dir + "/" + f) }
            }
            var direct: Int32 = 0
            fd = kam_open_for_writing(temporary, 0o644, &direct)
            guard fd >= 0 else { throw Diagnostic(.data, "cannot write the snapshot \(temporary)") }
            w = Writer(fd: fd, direct: direct != 0)
            w?.bytes(magic)
            w?.u32(formatVersion)
        }

        deinit { abandon() }

        /// Writes a loaded table now. A table the snapshot cannot hold (values nested
        /// deeper than a snapshot keeps) stops the stream: `finish` then fails, as
        /// `canWrite` would have said.
        public func add(_ t: Table) {
            guard w != nil, !(w?.failed ?? true) else { return }
            for c in t.columns {
                if case .values(let vs) = c.storage, !vs.allSatisfy({ Writer.plain($0) }) {
                    abandon()
                    return
                }
            }
            w?.u8(1)
            w?.table(t)
            tables.append(t)
        }

        /// Writes the rest of the graph and puts the snapshot in place.
        public func finish(_ graph: AccountGraph, _ report: DatasetLoader.Report, key: String) throws {
            guard w != nil else { throw Diagnostic(.data, "cannot write the snapshot \(temporary)") }
            defer { abandon() }
            var slots: [Int] = []
            for e in graph.entities {
                if let k = tables.firstIndex(where: { Snapshot.same($0, e.table) }) {
                    slots.append(k)
                } else {
                    add(e.table)
                    slots.append(tables.count - 1)
                }
            }
            guard var w else { throw Diagnostic(.data, "cannot write the snapshot \(temporary)") }
            self.w = nil
            defer { w.release() }
            w.u8(0)
            let keyOffset = w.written
            w.string(key)
            w.string(graph.label)
            w.strings(report.summary)
            w.u64(UInt64(report.warnings.count))
            for d in report.warnings {
                w.u8(d.kind == .warning ? 0 : 1)
                w.string(d.message)
                w.strings(d.hints)
                w.strings(d.notes)
                w.optionalString(d.fileLocation)
            }
            w.u64(UInt64(graph.entities.count))
            for (i, e) in graph.entities.enumerated() {
                w.string(e.name)
                w.string(e.file)
                w.optionalString(e.sourceTable)
                w.u8(e.table.origin != nil ? 1 : 0)
                w.u64(UInt64(slots[i]))
                w.optionalString(e.table.name)
                w.u64(UInt64(e.forward.count))
                for f in e.forward {
                    w.string(f.name)
                    w.string(f.column)
                    w.u64(UInt64(f.target))
                    w.string(f.key)
                    w.array(f.rows)
                }
                w.u64(UInt64(e.reverse.count))
                for r in e.reverse {
                    w.string(r.name)
                    w.u64(UInt64(r.source))
                    w.string(r.via)
                    w.array(r.offsets)
                    // The rows are the forward link's, sorted by target: made again from it when
                    // a run needs them (a fifth of the snapshot of a large fact table).
                    if graph.entities[r.source].forwardLink(r.via) != nil {
                        w.u8(0)
                    } else {
                        w.u8(1)
                        w.array(r.rows)
                    }
                }
                // An index by a column is built again from it when a run first needs it.
                if let key = e.idColumn, e.table.columnIndex(key) != nil, e.idIndex.byColumn {
                    w.u8(4)
                    w.string(key)
                    continue
                }
                switch e.idIndex {
                case .none, .values:
                    w.u8(0)
                case .dense(let lo, let rows):
                    w.u8(1)
                    w.u64(UInt64(bitPattern: lo))
                    w.array(rows)
                case .ints(let map):
                    w.u8(2)
                    w.array(Array(map.keys))
                    w.array(Array(map.values))
                case .strings(let map):
                    w.u8(3)
                    w.strings(Array(map.keys))
                    w.array(Array(map.values))
                }
            }
            let meta = w.meta
            w.bytes(trailer)
            w.u64(meta)
            w.u64(UInt64(keyOffset))
            w.u64(UInt64(w.written + 8))
            w.finish()
            guard !w.failed else { throw Diagnostic(.data, "cannot write the snapshot \(temporary) (disk full?)") }
            guard rename(temporary, path) == 0 else { throw Diagnostic(.data, "cannot move the snapshot into place: \(path)") }
            // Written past the page cache, the snapshot is read from the disk by the next run:
            // ask the kernel to read it back into the cache on its own, after this run, so a
            // script run again at once maps it from memory (POSIX_FADV_WILLNEED only starts
            // the reads).
            if w.direct {
                let rd = open(path, O_RDONLY)
                if rd >= 0 {
                    _ = posix_fadvise(rd, 0, 0, POSIX_FADV_WILLNEED)
                    close(rd)
                }
            }
        }

        /// Stops writing and removes the temporary file (nothing once the snapshot is in place).
        public func abandon() {
            w?.release()
            w = nil
            tables = []
            guard fd >= 0 else { return }
            close(fd)
            fd = -1
            unlink(temporary)
        }
    }

    /// Whether two tables hold the very same arrays (not equal ones: the same memory),
    /// under the same names: one table as the loader made it and as the linker named it.
    static func same(_ a: Table, _ b: Table) -> Bool {
        guard a === b || (a.count == b.count && a.names == b.names) else { return false }
        if a === b { return true }
        func base<T>(_ x: [T]) -> UnsafeRawPointer? { x.withUnsafeBytes { $0.baseAddress } }
        func sameArray<T>(_ x: [T], _ y: [T]) -> Bool { x.count == y.count && base(x) == base(y) }
        return zip(a.columns, b.columns).allSatisfy { x, y in
            switch (x.validity, y.validity) {
            case (nil, nil): break
            case (let v?, let u?): guard sameArray(v.words, u.words) else { return false }
            default: return false
            }
            switch (x.storage, y.storage) {
            case (.int(let p), .int(let q)): return sameArray(p, q)
            case (.float(let p), .float(let q)): return sameArray(p, q)
            case (.bool(let p), .bool(let q)): return sameArray(p, q)
            case (.date(let p), .date(let q)): return sameArray(p, q)
            case (.string(let p), .string(let q)): return sameArray(p.codes, q.codes) && sameArray(p.dictionary, q.dictionary)
            case (.values(let p), .values(let q)): return sameArray(p, q)
            default: return false
            }
        }
    }

    /// A buffered writer of the snapshot's little-endian layout.
    ///
    /// The bytes gather in page-aligned buffers written a multiple of pages at a time, so
    /// the file can be opened past the page cache (O_DIRECT): written through the page
    /// cache, a snapshot of a few hundred megabytes cost a first run more time than its
    /// parse on a machine whose fresh memory is slow to come by (every page of the cache
    /// found and filled as it is written), where the disk takes the same bytes straight
    /// from the buffer in a fraction of it. A full buffer is written by a thread of its own
    /// while the next one fills (three take turns), so the disk and the cores work at once.
    /// A file system that turns direct writes down gets ordinary ones. The last page is
    /// padded and the file cut back to its length.
    struct Writer {
        let fd: Int32
        private static let page = 4096
        private static let capacity = 4 << 20
        private let buffers: [UnsafeMutableRawPointer]
        private var current = 0
        private var filled = 0
        /// Buffers neither filling nor being written.
        private let idle: DispatchSemaphore
        private let io = DispatchQueue(label: "kam.snapshot.write")
        private let state: State
        var written = 0
        var failed: Bool { state.failed }
        /// Whether the file was written past the page cache.
        var direct: Bool { state.direct }
        /// The checksum of everything but the arrays' bytes.
        var meta: UInt64 = 0xcbf2_9ce4_8422_2325

        /// A buffer handed to the writing thread, which alone touches it until it signals.
        private struct Buffer: @unchecked Sendable { let base: UnsafeMutableRawPointer }

        /// What the writing thread found: whether a write failed, whether writes are
        /// still direct.
        final class State: @unchecked Sendable {
            private let lock = NSLock()
            private var failedFlag = false, directFlag: Bool
            init(direct: Bool) { directFlag = direct }
            var failed: Bool { lock.withLock { failedFlag } }
            var direct: Bool { lock.withLock { directFlag } }
            func fail() { lock.withLock { failedFlag = true } }
            func stopDirect() { lock.withLock { directFlag = false } }
        }

        init(fd: Int32, direct: Bool) {
            self.fd = fd
            state = State(direct: direct)
            buffers = (0..<3).map { _ in .allocate(byteCount: Writer.capacity, alignment: Writer.page) }
            idle = DispatchSemaphore(value: 2)
        }

        /// Waits for the writes in flight, then frees the buffers.
        func release() {
            io.sync {}
            for b in buffers { b.deallocate() }
        }

        /// A value a snapshot keeps in a column of mixed values: null, a bool, a number, a
        /// date, a text, and lists and records of those (JSON's nesting, to a depth of 32).
        static func plain(_ v: Value, depth: Int = 0) -> Bool {
            switch v {
            case .null, .bool, .int, .float, .date, .string: return true
            case .list(let xs): return depth < 32 && xs.allSatisfy { plain($0, depth: depth + 1) }
            case .record(let r): return depth < 32 && r.values.allSatisfy { plain($0, depth: depth + 1) }
            default: return false
            }
        }

        /// Writes `count` bytes of `buffer` (on the writing thread); a direct write the
        /// file system turns down is made again as an ordinary one.
        private static func writeOut(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int, _ state: State) {
            var start = 0
            while start < count && !state.failed {
                let n = Glibc.write(fd, buffer + start, count - start)
                if n > 0 {
                    start += n
                } else if n < 0 && errno == EINTR {
                    continue
                } else if n < 0 && errno == EINVAL && state.direct && kam_stop_direct(fd) == 0 {
                    state.stopDirect()
                } else {
                    state.fail()
                }
            }
        }

        /// Hands the current buffer's whole pages (direct) or all of it to the writing
        /// thread, and goes on in the next buffer with the rest.
        private mutating func drain() {
            let n = state.direct ? filled / Writer.page * Writer.page : filled
            guard n > 0 else { return }
            idle.wait()
            let full = buffers[current], next = buffers[(current + 1) % buffers.count]
            if n < filled { next.copyMemory(from: full + n, byteCount: filled - n) }
            filled -= n
            current = (current + 1) % buffers.count
            let (fd, state, idle, buffer) = (fd, state, idle, Buffer(base: full))
            io.async {
                Writer.writeOut(fd, buffer.base, n, state)
                idle.signal()
            }
        }

        private mutating func append(_ p: UnsafeRawBufferPointer) {
            guard var from = p.baseAddress else { return }
            var left = p.count
            while left > 0 {
                let n = min(left, Writer.capacity - filled)
                (buffers[current] + filled).copyMemory(from: from, byteCount: n)
                filled += n
                from += n
                left -= n
                if filled == Writer.capacity { drain() }
            }
            written += p.count
        }

        /// Writes what is left, the last page padded with zeros and the file then cut back
        /// to `written` bytes; returns once every write is done.
        mutating func finish() {
            drain()
            io.sync {}
            guard filled > 0, !state.failed else { return }
            let last = buffers[current]
            if state.direct {
                let padded = (filled + Writer.page - 1) / Writer.page * Writer.page
                (last + filled).initializeMemory(as: UInt8.self, repeating: 0, count: padded - filled)
                Writer.writeOut(fd, last, padded, state)
                if !state.failed && ftruncate(fd, off_t(written)) != 0 { state.fail() }
            } else {
                Writer.writeOut(fd, last, filled, state)
            }
            filled = 0
        }

        mutating func bytes(_ b: [UInt8]) {
            b.withUnsafeBytes {
                meta = Snapshot.fnvStep(meta, $0)
                append($0)
            }
        }

        /// An array's bytes, outside the metadata checksum (they have their own).
        mutating func payload(_ p: UnsafeRawBufferPointer) { append(p) }

        mutating func u8(_ x: UInt8) { bytes([x]) }
        mutating func u32(_ x: UInt32) { withUnsafeBytes(of: x.littleEndian) { bytes(Array($0)) } }
        mutating func u64(_ x: UInt64) { withUnsafeBytes(of: x.littleEndian) { bytes(Array($0)) } }

        mutating func string(_ s: String) {
            let b = Array(s.utf8)
            u64(UInt64(b.count))
            bytes(b)
        }

        mutating func optionalString(_ s: String?) {
            u8(s == nil ? 0 : 1)
            if let s { string(s) }
        }

        mutating func strings(_ xs: [String]) {
            u64(UInt64(xs.count))
            for x in xs { string(x) }
        }

        /// The count, the bytes, their checksum.
        mutating func array<T>(_ xs: [T]) {
            u64(UInt64(xs.count))
            // The elements start at a multiple of 8 in the file (the mapping is page
            // aligned), so a pass can read them where they are (ArrayStream).
            if written % 8 != 0 { bytes([UInt8](repeating: 0, count: 8 - written % 8)) }
            let sum = xs.withUnsafeBytes { p -> UInt64 in
                payload(p)
                return checksum(UnsafeBufferPointer(start: p.baseAddress?.assumingMemoryBound(to: UInt8.self), count: p.count))
            }
            u64(sum)
        }

        /// How a numeric column is stored (`table` writes the tags): as it is, as 32-bit
        /// integers, or as 32-bit integers of 10^-scale.
        enum Narrowed {
            case none
            case ints32
            case scaled(UInt8)
        }

        /// Whether each numeric column narrows, decided side by side on the cores without
        /// making the narrowed copies (`narrowedArray` writes them a block at a time).
        static func narrowing(_ t: Table) -> [Narrowed] {
            var out = [Narrowed](repeating: .none, count: t.columns.count)
            out.withUnsafeMutableBufferPointer { o in
                let slots = o
                parallelFor(t.columns.count) { k in
                    switch t.columns[k].storage {
                    case .int(let a): slots[k] = Snapshot.fitsInt32(a) ? .ints32 : .none
                    case .float(let a): slots[k] = Snapshot.scale(of: a).map { .scaled($0) } ?? .none
                    default: break
                    }
                }
            }
            return out
        }

        /// A column's narrowed array (`array`'s layout: count, bytes, checksum), made a
        /// block at a time into one staging buffer on the cores and written from there: no
        /// narrowed copy of the whole column is ever held, and the checksum is taken while
        /// a block is in the cache. Blocks are the checksum's MiB chunks.
        mutating func narrowedArray<T>(_ source: UnsafeBufferPointer<T>, _ convert: (UnsafeBufferPointer<T>, UnsafeMutableBufferPointer<Int32>) -> Void) {
            let n = source.count
            u64(UInt64(n))
            if written % 8 != 0 { bytes([UInt8](repeating: 0, count: 8 - written % 8)) }
            let perBlock = (1 << 20) / MemoryLayout<Int32>.size
            let blocks = (n + perBlock - 1) / perBlock
            let batch = 2 * max(1, ProcessInfo.processInfo.activeProcessorCount)
            let staging = UnsafeMutableBufferPointer<Int32>.allocate(capacity: perBlock * min(max(blocks, 1), batch))
            defer { staging.deallocate() }
            var hashes = [UInt64](repeating: 0, count: blocks)
            var first = 0
            while first < blocks && !failed {
                let count = min(batch, blocks - first)
                hashes.withUnsafeMutableBufferPointer { h in
                    let slots = h, from = first
                    parallelFor(count) { j in
                        let lo = (from + j) * perBlock, hi = min(n, lo + perBlock)
                        let out = UnsafeMutableBufferPointer(rebasing: staging[(j * perBlock)..<(j * perBlock + hi - lo)])
                        convert(UnsafeBufferPointer(rebasing: source[lo..<hi]), out)
                        slots[from + j] = Snapshot.hashChunk(UnsafeRawBufferPointer(out))
                    }
                }
                let end = min(n, (first + count) * perBlock)
                let bytes = (end - first * perBlock) * MemoryLayout<Int32>.size
                payload(UnsafeRawBufferPointer(start: staging.baseAddress, count: bytes))
                first += count
            }
            u64(blocks == 0 ? 0 : Snapshot.combine(hashes, count: n * MemoryLayout<Int32>.size))
        }

        mutating func table(_ t: Table) {
            u64(UInt64(t.count))
            u64(UInt64(t.columns.count))
            let narrowed = Writer.narrowing(t)
            for (k, (name, c)) in zip(t.names, t.columns).enumerated() {
                string(name)
                if let v = c.validity {
                    u8(1)
                    array(v.words)
                } else {
                    u8(0)
                }
                switch c.storage {
                case .int(let a):
                    // Ids, counts and quantities mostly fit in 32 bits: half the bytes to write.
                    if case .ints32 = narrowed[k] {
                        u8(6)
                        a.withUnsafeBufferPointer { src in
                            narrowedArray(src) { from, to in
                                for i in 0..<from.count { to[i] = Int32(truncatingIfNeeded: from[i]) }
                            }
                        }
                    } else {
                        u8(0)
                        array(a)
                    }
                case .float(let a):
                    // Money, prices and rates: whole cents (or ten-thousandths) as 32-bit
                    // integers, half the bytes, when each value comes back bit for bit.
                    if case .scaled(let scale) = narrowed[k] {
                        u8(7)
                        u8(scale)
                        let p = Snapshot.powerOfTen(scale)
                        a.withUnsafeBufferPointer { src in
                            narrowedArray(src) { from, to in
                                // The same rounding `scale(of:)` checked, value for value.
                                for i in 0..<from.count {
                                    let v = from[i] * p
                                    to[i] = Int32(v < 0 ? v - 0.5 : v + 0.5)
                                }
                            }
                        }
                    } else {
                        u8(1)
                        array(a)
                    }
                case .bool(let a): u8(2); array(a.map { $0 ? UInt8(1) : 0 })
                case .date(let a): u8(3); array(a)
                case .string(let s):
                    // The dictionary as its bytes and where each text starts: an array,
                    // read with the column, not when the snapshot is opened.
                    u8(4)
                    var text: [UInt8] = [], starts: [Int64] = [0]
                    for d in s.dictionary {
                        text += d.utf8
                        starts.append(Int64(text.count))
                    }
                    array(text)
                    array(starts)
                    array(s.codes)
                case .values(let vs):
                    u8(5)
                    u64(UInt64(vs.count))
                    for v in vs { value(v) }
                }
            }
        }

        mutating func value(_ v: Value) {
            switch v {
            case .bool(let b): u8(1); u8(b ? 1 : 0)
            case .int(let n): u8(2); u64(UInt64(bitPattern: n))
            case .float(let x): u8(3); u64(x.bitPattern)
            case .date(let d): u8(4); u32(UInt32(bitPattern: d))
            case .string(let s): u8(5); string(s)
            case .list(let xs):
                u8(6)
                u64(UInt64(xs.count))
                for x in xs { value(x) }
            case .record(let r):
                u8(7)
                strings(r.keys)
                for x in r.values { value(x) }
            default: u8(0)
            }
        }
    }

    /// madvise over the whole pages inside a range (a hint: failure changes nothing).
    static func advise(_ p: UnsafeRawPointer, _ size: Int, _ advice: Int32) {
        let page = 4096
        let lo = (Int(bitPattern: p) + page - 1) / page * page, hi = (Int(bitPattern: p) + size) / page * page
        if hi > lo, let start = UnsafeMutableRawPointer(bitPattern: lo) { _ = madvise(start, hi - lo, advice) }
    }

    /// An array whose bytes no longer match their checksum, or hold a row that is not
    /// there (the file was damaged on the disk, or after it was opened): kam stops rather
    /// than answer from it, and removes the snapshot so the next run parses the sources.
    static func damaged(_ path: String) -> Never {
        unlink(path)
        FileHandle.standardError.write(Data("error: the snapshot \(path) is damaged (a column does not match its checksum); it is removed: run again\n".utf8))
        exit(4)
    }

    // MARK: the checksum

    /// A 64-bit checksum of the bytes: a hash of each MiB (four lanes of 8-byte words
    /// multiplied and rotated, so a flipped bit anywhere changes it), the MiBs hashed on
    /// every core, then the hashes of the MiBs combined in order.
    static func checksum(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        let chunk = 1 << 20
        let n = (bytes.count + chunk - 1) / chunk
        guard n > 0, let base = bytes.baseAddress else { return 0 }
        var hashes = [UInt64](repeating: 0, count: n)
        hashes.withUnsafeMutableBufferPointer { out in
            let slots = out
            let workers = min(n, max(1, ProcessInfo.processInfo.activeProcessorCount))
            parallelFor(workers) { w in
                var k = w
                while k < n {
                    let start = k * chunk
                    slots[k] = hashChunk(UnsafeRawBufferPointer(start: base + start, count: min(chunk, bytes.count - start)))
                    k += workers
                }
            }
        }
        return combine(hashes, count: bytes.count)
    }

    /// Whether every integer fits 32 bits.
    static func fitsInt32(_ a: [Int64]) -> Bool {
        var lo = Int64.max, hi = Int64.min
        for x in a {
            lo = min(lo, x)
            hi = max(hi, x)
        }
        return a.isEmpty || (lo >= Int64(Int32.min) && hi <= Int64(Int32.max))
    }

    /// The integers as 32-bit ones when every one fits, else nil.
    static func narrow(_ a: [Int64]) -> [Int32]? {
        fitsInt32(a) ? a.map { Int32(truncatingIfNeeded: $0) } : nil
    }

    /// The scale (2, else 4) at which every float is an integer of 10^-scale that fits 32
    /// bits and `Double(c) / 10^scale` gives it back bit for bit (as the CSV reader made
    /// it from its digits); nil when none does. Only checked: the writer makes the integers.
    static func scale(of a: [Double]) -> UInt8? {
        guard !a.isEmpty else { return nil }
        for scale: UInt8 in [2, 4] {
            let p = powerOfTen(scale)
            let fits = a.withUnsafeBufferPointer { x in
                for i in 0..<x.count {
                    // Rounded by hand (`rounded()` is a libm call per value); the check
                    // decides, so a tie rounded either way is never wrong.
                    let v = x[i] * p
                    guard v.magnitude <= Double(Int32.max) else { return false }
                    let c = Int32(v < 0 ? v - 0.5 : v + 0.5)
                    guard (Double(c) / p).bitPattern == x[i].bitPattern else { return false }
                }
                return true
            }
            if fits { return scale }
        }
        return nil
    }

    /// The floats as integers of 10^-scale when `scale(of:)` finds a scale, else nil.
    static func scaled(_ a: [Double]) -> ([Int32], UInt8)? {
        guard let scale = scale(of: a) else { return nil }
        let p = powerOfTen(scale)
        return (a.map { x in let v = x * p; return Int32(v < 0 ? v - 0.5 : v + 0.5) }, scale)
    }

    static func powerOfTen(_ scale: UInt8) -> Double { scale == 2 ? 100 : scale == 4 ? 10_000 : 1 }

    /// 32-bit integers of 10^-scale back to the column's floats.
    static func unscaled(_ a: [Int32], _ scale: UInt8) -> [Double] {
        let p = powerOfTen(scale)
        return [Double](unsafeUninitializedCapacity: a.count) { out, initialized in
            a.withUnsafeBufferPointer { src in
                for i in 0..<src.count { out[i] = Double(src[i]) / p }
            }
            initialized = a.count
        }
    }

    /// 32-bit integers back to the column's 64-bit ones.
    static func widen(_ a: [Int32]) -> [Int64] {
        [Int64](unsafeUninitializedCapacity: a.count) { out, initialized in
            a.withUnsafeBufferPointer { src in
                for i in 0..<src.count { out[i] = Int64(src[i]) }
            }
            initialized = a.count
        }
    }

    /// The checksum of an array from the hashes of its megabyte chunks, in order.
    static func combine(_ hashes: [UInt64], count: Int) -> UInt64 {
        var h: UInt64 = 0x9e37_79b9_7f4a_7c15 ^ UInt64(count)
        for x in hashes { h = (h ^ x) &* 0x100_0000_01b3; h = (h << 29) | (h >> 35) }
        return h
    }

    static func hashChunk(_ p: UnsafeRawBufferPointer) -> UInt64 {
        let m: UInt64 = 0x9e37_79b9_7f4a_7c15
        var a: UInt64 = 1, b: UInt64 = 2, c: UInt64 = 3, d: UInt64 = 4
        let blocks = p.count / 32
        var i = 0
        for _ in 0..<blocks {
            a = (a ^ p.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* m; a = (a << 31) | (a >> 33)
            b = (b ^ p.loadUnaligned(fromByteOffset: i + 8, as: UInt64.self)) &* m; b = (b << 31) | (b >> 33)
            c = (c ^ p.loadUnaligned(fromByteOffset: i + 16, as: UInt64.self)) &* m; c = (c << 31) | (c >> 33)
            d = (d ^ p.loadUnaligned(fromByteOffset: i + 24, as: UInt64.self)) &* m; d = (d << 31) | (d >> 33)
            i += 32
        }
        var h = a &+ (b << 1 | b >> 63) &+ (c << 7 | c >> 57) &+ (d << 12 | d >> 52)
        while i < p.count {
            h = (h ^ UInt64(p[i])) &* 0x100_0000_01b3
            i += 1
        }
        return h ^ UInt64(p.count)
    }

    // MARK: reading

    /// The graph and load report of a snapshot whose key is `key`; nil when there is none,
    /// it is stale, or it does not read whole (the caller then loads the sources). The
    /// columns are read from the file when first asked for, each checked against its
    /// checksum then.
    public static func read(_ path: String, key: String, needing: Set<String>? = nil) -> (AccountGraph, DatasetLoader.Report)? {
        // Its columns are read when used, a few at a time: memory is reused from the start.
        kam_tune_malloc_for_queries()
        guard let file = MappedFile(path: path) else { return nil }
        var r = Reader(file: file)
        return try? r.graph { stored in
            // A snapshot of some of the entities serves a script that needs only those.
            stored == key || needing.map { need in entities(stored, key: key).map { need.isSubset(of: $0) } ?? false } ?? false
        }
    }

    /// The key of a snapshot of only some entities: the sources' key, then their names.
    public static func key(_ key: String, entities: [String]) -> String {
        key + "\nentities " + entities.sorted().joined(separator: ",")
    }

    /// The entities a snapshot of some of them holds, from its stored key; nil when the
    /// key is not `key`'s (stale) or the snapshot holds every entity.
    static func entities(_ stored: String, key: String) -> Set<String>? {
        let prefix = key + "\nentities "
        guard stored.hasPrefix(prefix) else { return nil }
        return Set(stored.dropFirst(prefix.count).split(separator: ",").map(String.init))
    }

    /// The entities of the snapshot at `path` when it is current for `key` and holds only
    /// some of them: a run that needs others reads those too, so the snapshot grows to what
    /// the scripts use.
    public static func partialEntities(_ path: String, key: String) -> Set<String>? {
        guard let file = MappedFile(path: path) else { return nil }
        var r = Reader(file: file)
        guard let stored = try? r.storedKey() else { return nil }
        return entities(stored, key: key)
    }

    struct Invalid: Error {}

    /// Where an array is in the file: its count, the offset of its bytes, their checksum.
    struct Slice {
        var count: Int
        var offset: Int
        var sum: UInt64
    }

    /// A bounds-checked reader: every count is checked against the bytes that are left.
    struct Reader {
        let file: MappedFile
        let bytes: UnsafeBufferPointer<UInt8>
        var at = 0
        var meta: UInt64 = 0xcbf2_9ce4_8422_2325

        init(file: MappedFile) {
            self.file = file
            bytes = file.withBytes { $0 }
        }

        mutating func take(_ n: Int) throws -> UnsafeRawBufferPointer {
            guard n >= 0, n <= bytes.count - at, let base = bytes.baseAddress else { throw Invalid() }
            let p = UnsafeRawBufferPointer(start: base + at, count: n)
            meta = Snapshot.fnvStep(meta, p)
            at += n
            return p
        }

        mutating func u8() throws -> UInt8 { try take(1)[0] }
        mutating func u32() throws -> UInt32 { UInt32(littleEndian: try take(4).loadUnaligned(as: UInt32.self)) }
        mutating func u64() throws -> UInt64 { UInt64(littleEndian: try take(8).loadUnaligned(as: UInt64.self)) }

        /// An entity's index, never one that does not fit an Int.
        mutating func index() throws -> Int {
            guard let i = Int(exactly: try u64()) else { throw Invalid() }
            return i
        }

        mutating func count(_ size: Int = 1) throws -> Int {
            let n = try u64()
            guard n <= UInt64(bytes.count - at) / UInt64(max(size, 1)) else { throw Invalid() }
            return Int(n)
        }

        mutating func string() throws -> String {
            let n = try count()
            return String(decoding: try take(n), as: UTF8.self)
        }

        mutating func optionalString() throws -> String? { try u8() == 0 ? nil : try string() }

        mutating func strings() throws -> [String] {
            let n = try count(8)
            var out: [String] = []
            out.reserveCapacity(n)
            for _ in 0..<n { out.append(try string()) }
            return out
        }

        /// An array's place, its bytes skipped (read later, or now by `array`).
        mutating func slice<T>(_: T.Type) throws -> Slice {
            let n = try count(MemoryLayout<T>.stride)
            if at % 8 != 0 { _ = try take(8 - at % 8) }
            let offset = at
            guard n * MemoryLayout<T>.stride <= bytes.count - at - 8 else { throw Invalid() }
            at += n * MemoryLayout<T>.stride
            return Slice(count: n, offset: offset, sum: try u64())
        }

        /// An array read (and checked against its checksum) when first asked for.
        func lazyArray<T>(_ s: Slice) -> LazyArray<T> {
            let file = self.file
            return LazyArray(loader: {
                guard let a = file.withBytes({ Snapshot.array(T.self, s, in: $0, file: file) }) else { Snapshot.damaged(file.path) }
                file.release(s.offset, s.offset + s.count * MemoryLayout<T>.stride)
                return a
            }, mapped: LazyArray.Mapped(file: file, slice: s))
        }

        mutating func array<T>(_ t: T.Type) throws -> [T] {
            let s = try slice(t)
            guard let a = Snapshot.array(t, s, in: bytes) else { throw Invalid() }
            return a
        }

        /// Where the graph (its key first) starts, from the file's tail; nil when the tail
        /// is not a snapshot's.
        func keyOffset() -> Int? {
            let tail = trailer.count + 24
            guard bytes.count >= magic.count + 4 + tail, Array(bytes[bytes.count - tail..<bytes.count - 24]) == trailer else { return nil }
            var end = self
            end.at = bytes.count - 16
            guard let offset = try? end.u64(), let length = try? end.u64(), length == UInt64(bytes.count),
                  offset >= UInt64(magic.count + 4), offset <= UInt64(bytes.count - tail) else { return nil }
            return Int(offset)
        }

        /// The key a snapshot was written with, checking only the magic, version and tail.
        mutating func storedKey() throws -> String {
            guard Array(try take(magic.count)) == magic, try u32() == formatVersion, let offset = keyOffset() else { throw Invalid() }
            at = offset
            return try string()
        }

        mutating func graph(accept: (String) -> Bool) throws -> (AccountGraph, DatasetLoader.Report) {
            // Whole: the trailer and the length it gives are where they must be.
            let tail = trailer.count + 24
            guard let keyAt = keyOffset() else { throw Invalid() }
            var end = self
            end.at = bytes.count - 24
            let sum = try end.u64()
            guard Array(try take(magic.count)) == magic, try u32() == formatVersion else { throw Invalid() }
            // The key is read first (a stale snapshot is turned down before its tables are
            // looked at); the metadata checksum then runs over the file in order.
            var keyReader = self
            keyReader.at = keyAt
            guard accept(try keyReader.string()) else { throw Invalid() }
            var stored: [(names: [String], specs: [LazyColumns.Spec], count: Int)] = []
            while try u8() == 1 { stored.append(try table()) }
            guard at == keyAt else { throw Invalid() }
            _ = try string()
            let graph = AccountGraph(label: try string())
            var report = DatasetLoader.Report()
            report.summary = try strings()
            for _ in 0..<(try count(8)) {
                let warning = try u8() == 0
                var d = Diagnostic(warning ? .warning : .data, try string(), hints: try strings())
                d.notes = try strings()
                d.fileLocation = try optionalString()
                report.warnings.append(d)
            }
            let entityCount = try count(8)
            var tables: [(names: [String], specs: [LazyColumns.Spec], count: Int, name: String?, origin: Bool)] = []
            var forwardChecks: [(Int, Int, Int)] = [], reverseChecks: [(Int, Int, Int, Int?)] = []
            for i in 0..<entityCount {
                let name = try string(), file = try string(), sourceTable = try optionalString()
                let origin = try u8() == 1
                let slot = try index()
                guard slot < stored.count else { throw Invalid() }
                let t = stored[slot]
                tables.append((t.names, t.specs, t.count, try optionalString(), origin))
                let e = AccountGraph.Entity(name: name, table: Table.empty, file: file)
                e.sourceTable = sourceTable
                // The links are read when first followed, each checked then.
                for _ in 0..<(try count(8)) {
                    let n = try string(), column = try string(), target = try index(), key = try string()
                    let rows = try slice(Int32.self)
                    guard target >= 0, target < entityCount, rows.count == tables[i].count else { throw Invalid() }
                    forwardChecks.append((i, e.forward.count, target))
                    e.forward.append(AccountGraph.ForwardLink(name: n, column: column, target: target, key: key, rowsBox: lazyArray(rows)))
                }
                for _ in 0..<(try count(8)) {
                    let n = try string(), source = try index(), via = try string()
                    let offsets = try slice(Int32.self)
                    let rows = try u8() == 1 ? try slice(Int32.self) : nil
                    guard source >= 0, source < entityCount, offsets.count == tables[i].count + 1 else { throw Invalid() }
                    reverseChecks.append((i, e.reverse.count, source, rows?.count))
                    e.reverse.append(AccountGraph.ReverseLink(name: n, source: source, via: via, offsetsBox: lazyArray(offsets),
                        rowsBox: rows.map { lazyArray($0) } ?? LazyArray([])))
                }
                switch try u8() {
                case 0: e.idIndex = .none
                case 1:
                    let lo = Int64(bitPattern: try u64())
                    e.idIndex = .dense(min: lo, rows: try array(Int32.self))
                case 2:
                    let keys = try array(Int64.self), rows = try array(Int32.self)
                    guard keys.count == rows.count else { throw Invalid() }
                    e.idIndex = .ints(Dictionary(zip(keys, rows), uniquingKeysWith: { a, _ in a }))
                case 3:
                    let keys = try strings(), rows = try array(Int32.self)
                    guard keys.count == rows.count else { throw Invalid() }
                    e.idIndex = .strings(Dictionary(zip(keys, rows), uniquingKeysWith: { a, _ in a }))
                case 4:
                    let key = try string()
                    guard let c = tables[i].names.firstIndex(of: key) else { throw Invalid() }
                    // The entity's table is set below; the index reads it when first asked for.
                    e.idIndexBox = LazyIDIndex(building: { [weak e] in e.map { IDIndex.build($0.table.column(at: c)).0 } ?? .none })
                    e.idColumn = key
                default: throw Invalid()
                }
                graph.entities.append(e)
                graph.byName[name] = i
            }
            guard at == bytes.count - tail, meta == sum else { throw Invalid() }
            try validate(graph, counts: tables.map(\.count))
            // What a link holds is checked when it is read: rows that are there.
            let counts = tables.map(\.count)
            let path = file.path
            for (i, k, target) in forwardChecks {
                let link = graph.entities[i].forward[k], limit = Int32(clamping: counts[target])
                graph.entities[i].forward[k] = AccountGraph.ForwardLink(name: link.name, column: link.column, target: link.target, key: link.key,
                    rowsBox: link.rowsBox.checked(bounds: -1..<limit, path: path))
            }
            for (i, k, source, rowCount) in reverseChecks {
                let link = graph.entities[i].reverse[k], limit = Int32(clamping: counts[source])
                let offsets = link.offsetsBox.checked({ o in
                    var previous: Int32 = 0
                    for x in o { if x < previous { return false }; previous = x }
                    return o.first == 0
                }, path: path)
                let rows: LazyArray<Int32>
                let both: LazyArray<Int32>
                if let rowCount {
                    rows = link.rowsBox.checked(bounds: 0..<limit, path: path)
                    // The offsets end at the number of rows the file gives the link, so reading
                    // them does not read the rows too (a count needs only the offsets).
                    both = LazyArray<Int32>(loader: {
                        let o = offsets.array
                        guard Int(o.last ?? -1) == rowCount else { Snapshot.damaged(path) }
                        return o
                    })
                } else {
                    // Made from the forward link it reverses, which must fill the offsets exactly.
                    guard let forward = graph.entities[source].forwardLink(link.via) else { throw Invalid() }
                    both = offsets
                    rows = LazyArray<Int32>(loader: {
                        guard let r = AccountGraph.ReverseLink.rows(forward: forward.rows, offsets: offsets.array) else { Snapshot.damaged(path) }
                        return r
                    })
                }
                graph.entities[i].reverse[k] = AccountGraph.ReverseLink(name: link.name, source: link.source, via: link.via, offsetsBox: both, rowsBox: rows)
            }
            for (i, e) in graph.entities.enumerated() {
                let t = tables[i]
                let lazy = LazyColumns(file: file, path: file.path, specs: t.specs, count: t.count)
                e.table = Table(names: t.names, lazy: lazy, count: t.count, name: t.name,
                                origin: t.origin ? Origin(graph: graph, entity: i, rows: nil) : nil)
            }
            return (graph, report)
        }

        mutating func table() throws -> (names: [String], specs: [LazyColumns.Spec], count: Int) {
            let rows = try count(0)
            var names: [String] = [], specs: [LazyColumns.Spec] = []
            for _ in 0..<(try count(8)) {
                names.append(try string())
                var spec = LazyColumns.Spec()
                if try u8() == 1 {
                    let v = try slice(UInt64.self)
                    guard v.count == (rows + 63) / 64 else { throw Invalid() }
                    spec.validity = v
                }
                spec.kind = try u8()
                switch spec.kind {
                case 0, 1: spec.payload = try slice(Int64.self)
                case 2: spec.payload = try slice(UInt8.self)
                case 3, 6: spec.payload = try slice(Int32.self)
                case 7:
                    spec.scale = try u8()
                    guard spec.scale == 2 || spec.scale == 4 else { throw Invalid() }
                    spec.payload = try slice(Int32.self)
                case 4:
                    spec.text = try slice(UInt8.self)
                    spec.starts = try slice(Int64.self)
                    spec.payload = try slice(UInt32.self)
                case 5:
                    var vs: [Value] = []
                    for _ in 0..<(try count(1)) { vs.append(try value()) }
                    guard vs.count == rows else { throw Invalid() }
                    spec.values = vs
                default: throw Invalid()
                }
                guard spec.kind == 5 || spec.payload.count == rows else { throw Invalid() }
                specs.append(spec)
            }
            return (names, specs, rows)
        }

        mutating func value(depth: Int = 0) throws -> Value {
            switch try u8() {
            case 0: return .null
            case 1: return .bool(try u8() != 0)
            case 2: return .int(Int64(bitPattern: try u64()))
            case 3: return .float(Double(bitPattern: try u64()))
            case 4: return .date(Int32(bitPattern: try u32()))
            case 5: return .string(try string())
            case 6:
                guard depth < 32 else { throw Invalid() }
                var xs: [Value] = []
                for _ in 0..<(try count(1)) { xs.append(try value(depth: depth + 1)) }
                return .list(xs)
            case 7:
                guard depth < 32 else { throw Invalid() }
                let keys = try strings()
                var vs: [Value] = []
                for _ in keys { vs.append(try value(depth: depth + 1)) }
                return .record(Record(keys: keys, values: vs))
            default: throw Invalid()
            }
        }

        /// Every index a link or id index holds points at a row that is there, so reading
        /// the graph cannot trap.
        func validate(_ graph: AccountGraph, counts: [Int]) throws {
            for (i, e) in graph.entities.enumerated() {
                let n = counts[i]
                switch e.idIndexBox.ifBuilt ?? .none {
                case .dense(_, let rows):
                    guard !rows.contains(where: { $0 < -1 || $0 >= Int32(clamping: n) }) else { throw Invalid() }
                case .ints(let m):
                    guard !m.values.contains(where: { $0 < 0 || $0 >= Int32(clamping: n) }) else { throw Invalid() }
                case .strings(let m):
                    guard !m.values.contains(where: { $0 < 0 || $0 >= Int32(clamping: n) }) else { throw Invalid() }
                default: break
                }
            }
        }
    }

    /// An array read from its place in the file, or nil when its bytes do not match their
    /// checksum. With `file`, a large array is checked, copied and its pages of the mapping
    /// given back a megabyte at a time on the cores, so the mapped bytes and the copy are
    /// never both whole in memory (the peak of a repeated run is the arrays it reads, once).
    static func array<T>(_: T.Type, _ s: Slice, in bytes: UnsafeBufferPointer<UInt8>, file: MappedFile? = nil) -> [T]? {
        let size = s.count * MemoryLayout<T>.stride
        guard s.offset >= 0, size <= bytes.count - s.offset, let base = bytes.baseAddress else { return nil }
        if let file, size >= 1 << 21 {
            let chunk = 1 << 20
            let n = (size + chunk - 1) / chunk
            var hashes = [UInt64](repeating: 0, count: n)
            let a = [T](unsafeUninitializedCapacity: s.count) { buffer, initialized in
                if let b = buffer.baseAddress {
                    advise(UnsafeRawPointer(b), size, 14)  // MADV_HUGEPAGE
                    let destination = UnsafeMutableRawPointer(b)
                    hashes.withUnsafeMutableBufferPointer { slots in
                        let workers = min(n, max(1, ProcessInfo.processInfo.activeProcessorCount))
                        parallelFor(workers) { w in
                            var k = w
                            while k < n {
                                let start = k * chunk, count = min(chunk, size - start)
                                let source = UnsafeRawPointer(base + s.offset + start)
                                advise(source, count, 22)  // MADV_POPULATE_READ: one call, not a fault a page
                                slots[k] = hashChunk(UnsafeRawBufferPointer(start: source, count: count))
                                (destination + start).copyMemory(from: source, byteCount: count)
                                file.release(s.offset + start, s.offset + start + count)
                                k += workers
                            }
                        }
                    }
                }
                initialized = s.count
            }
            return combine(hashes, count: size) == s.sum ? a : nil
        }
        // A large array: its pages mapped in one call rather than a fault each, and the copy
        // in huge pages where the kernel has them.
        if size >= 1 << 21 { advise(UnsafeRawPointer(base + s.offset), size, 22) }  // MADV_POPULATE_READ
        guard checksum(UnsafeBufferPointer(start: base + s.offset, count: size)) == s.sum else { return nil }
        return [T](unsafeUninitializedCapacity: s.count) { buffer, initialized in
            if size > 0, let b = buffer.baseAddress {
                if size >= 1 << 21 { advise(UnsafeRawPointer(b), size, 14) }  // MADV_HUGEPAGE
                UnsafeMutableRawPointer(b).copyMemory(from: base + s.offset, byteCount: size)
            }
            initialized = s.count
        }
    }
}

/// The columns of a table mapped from a snapshot: each is read from the file (and checked)
/// the first time it is asked for, so a script reads only the columns it uses.
final class LazyColumns: @unchecked Sendable {
    struct Spec {
        var kind: UInt8 = 0
        /// Kind 7's: the values are integers of 10^-scale.
        var scale: UInt8 = 0
        var validity: Snapshot.Slice?
        var payload = Snapshot.Slice(count: 0, offset: 0, sum: 0)
        var text: Snapshot.Slice?
        var starts: Snapshot.Slice?
        var values: [Value] = []
    }

    let file: MappedFile
    let path: String
    let specs: [Spec]
    let count: Int
    private var cache: [Column?]
    private var everything: [Column]?
    private let lock = NSLock()

    init(file: MappedFile, path: String, specs: [Spec], count: Int) {
        self.file = file
        self.path = path
        self.specs = specs
        self.count = count
        cache = [Column?](repeating: nil, count: specs.count)
    }

    /// The columns' types, from what the file says each holds.
    var types: [ColumnType] {
        specs.map { s in
            switch s.kind {
            case 0: .int
            case 1: .float
            case 2: .bool
            case 3: .date
            case 4: .string
            case 6: .int
            case 7: .float
            default: .value
            }
        }
    }

    func column(_ i: Int) -> Column {
        lock.lock()
        defer { lock.unlock() }
        return load(i)
    }

    func all() -> [Column] {
        lock.lock()
        defer { lock.unlock() }
        if let everything { return everything }
        let columns = specs.indices.map(load)
        everything = columns
        return columns
    }

    /// Column i as a stream for one pass: in memory when it has been read, else read from
    /// the file a chunk at a time. Nil for a column that is not int or float.
    func stream(_ i: Int) -> ColumnStream? {
        lock.lock()
        let cached = cache[i]
        lock.unlock()
        if let cached { return ColumnStream(cached) }
        let s = specs[i]
        guard [0, 1, 6, 7].contains(s.kind) else { return nil }
        var validity: Bitmap? = nil
        if let v = s.validity {
            guard let words = file.withBytes({ Snapshot.array(UInt64.self, v, in: $0) }), words.count == (count + 63) / 64 else { damaged() }
            var b = Bitmap(count: count, allValid: true)
            b.words = words
            validity = b
        }
        switch s.kind {
        case 0: return .ints(ArrayStream(file: file, slice: s.payload), validity)
        case 1: return .floats(ArrayStream(file: file, slice: s.payload), validity)
        case 7: return .scaled(ArrayStream(file: file, slice: s.payload), Snapshot.powerOfTen(s.scale), validity)
        default: return .ints32(ArrayStream(file: file, slice: s.payload), validity)
        }
    }

    private func load(_ i: Int) -> Column {
        if let c = cache[i] { return c }
        guard let c = file.withBytes({ bytes in read(specs[i], bytes) }) else { damaged() }
        cache[i] = c
        // The bytes are copied: the kernel may drop their pages.
        let spec = specs[i]
        let payloadStride = [8, 8, 1, 4, 4, 8, 4, 4][Int(min(spec.kind, 7))]
        for (slice, stride) in [(spec.validity, 8), (spec.payload, payloadStride), (spec.text, 1), (spec.starts, 8)] {
            if let slice { file.release(slice.offset, slice.offset + slice.count * stride) }
        }
        return c
    }

    private func read(_ s: Spec, _ bytes: UnsafeBufferPointer<UInt8>) -> Column? {
        var validity: Bitmap? = nil
        if let v = s.validity {
            guard let words = Snapshot.array(UInt64.self, v, in: bytes) else { return nil }
            var b = Bitmap(count: count, allValid: true)
            b.words = words
            validity = b
        }
        let storage: ColumnStorage
        switch s.kind {
        case 0: guard let a = Snapshot.array(Int64.self, s.payload, in: bytes, file: file) else { return nil }; storage = .int(a)
        case 1: guard let a = Snapshot.array(Double.self, s.payload, in: bytes, file: file) else { return nil }; storage = .float(a)
        case 2: guard let a = Snapshot.array(UInt8.self, s.payload, in: bytes, file: file) else { return nil }; storage = .bool(a.map { $0 != 0 })
        case 3: guard let a = Snapshot.array(Int32.self, s.payload, in: bytes, file: file) else { return nil }; storage = .date(a)
        case 6: guard let a = Snapshot.array(Int32.self, s.payload, in: bytes, file: file) else { return nil }; storage = .int(Snapshot.widen(a))
        case 7: guard let a = Snapshot.array(Int32.self, s.payload, in: bytes, file: file) else { return nil }; storage = .float(Snapshot.unscaled(a, s.scale))
        case 4:
            guard let codes = Snapshot.array(UInt32.self, s.payload, in: bytes, file: file), let t = s.text, let st = s.starts,
                  let text = Snapshot.array(UInt8.self, t, in: bytes), let starts = Snapshot.array(Int64.self, st, in: bytes),
                  starts.first == 0, Int(starts.last ?? -1) == text.count else { return nil }
            var dictionary: [String] = []
            dictionary.reserveCapacity(starts.count - 1)
            var ok = true
            text.withUnsafeBufferPointer { p in
                for k in 1..<max(starts.count, 1) {
                    let a = Int(starts[k - 1]), b = Int(starts[k])
                    guard a <= b, b <= p.count else { ok = false; return }
                    dictionary.append(String(decoding: UnsafeBufferPointer(rebasing: p[a..<b]), as: UTF8.self))
                }
            }
            // A code beyond the dictionary would trap when read.
            let limit = UInt32(dictionary.count)
            guard ok, !codes.contains(where: { $0 >= limit }) else { return nil }
            storage = .string(StringColumn(codes: codes, dictionary: dictionary))
        case 5: storage = .values(s.values)
        default: return nil
        }
        return Column(storage: storage, validity: validity)
    }

    private func damaged() -> Never { Snapshot.damaged(path) }
}
