import Foundation

/// An array a kernel reads once, in row order, a chunk at a time: from memory when it is
/// there, else straight from a snapshot's mapping. A mapped chunk's pages are read in,
/// checked and hashed, handed to the kernel and given back, so a one-pass aggregate of a
/// repeated run never holds the column it reads (the peak is a chunk, not the array). The
/// whole array's checksum is compared when the pass ends: a damaged snapshot stops kam
/// (exit 4) before anything computed from it is printed.
///
///     Streams.zip(link.rowsStream, amounts) { start, targets, values in ... }
public struct ArrayStream<T: BitwiseCopyable>: @unchecked Sendable {
    enum Source {
        case memory([T])
        case mapped(MappedFile, Snapshot.Slice, bounds: Range<Int32>?)
    }

    let source: Source
    /// How many elements the array has.
    public let count: Int

    /// An array in memory, read in place.
    public init(_ array: [T]) {
        source = .memory(array)
        count = array.count
    }

    /// The array at `slice` of a snapshot; row indexes each checked to be within `bounds`
    /// (a row that is not there would trap in the kernel) before the kernel sees them.
    init(file: MappedFile, slice: Snapshot.Slice, bounds: Range<Int32>? = nil) {
        source = .mapped(file, slice, bounds: bounds)
        count = slice.count
    }

    /// Whether the pass reads the snapshot's file rather than memory.
    public var isMapped: Bool {
        if case .mapped = source { return true }
        return false
    }
}

/// A numeric column as a stream: 64-bit or (as a snapshot stores an integer column whose
/// values fit) 32-bit integers, floats, or floats a snapshot stores as scaled integers;
/// with its validity, which is small and read whole.
public enum ColumnStream: Sendable {
    case ints(ArrayStream<Int64>, Bitmap?)
    case ints32(ArrayStream<Int32>, Bitmap?)
    case floats(ArrayStream<Double>, Bitmap?)
    /// Floats stored as integers of 1/divisor (whole cents: 100): value = Double(x) / divisor.
    case scaled(ArrayStream<Int32>, Double, Bitmap?)

    public var count: Int {
        switch self {
        case .ints(let s, _): s.count
        case .ints32(let s, _): s.count
        case .floats(let s, _): s.count
        case .scaled(let s, _, _): s.count
        }
    }

    public var validity: Bitmap? {
        switch self {
        case .ints(_, let v), .ints32(_, let v), .floats(_, let v), .scaled(_, _, let v): v
        }
    }

    /// The stream of an int or float column in memory; nil for any other kind.
    public init?(_ c: Column) {
        switch c.storage {
        case .int(let xs): self = .ints(ArrayStream(xs), c.validity)
        case .float(let xs): self = .floats(ArrayStream(xs), c.validity)
        default: return nil
        }
    }
}

public enum Streams {
    /// Rows per chunk: a whole number of the checksum's MiB chunks for 4- and 8-byte
    /// elements, so each chunk is hashed as the writer hashed it.
    public static let chunkRows = 1 << 18

    /// Walks two arrays of one length together in row order, a chunk of rows at a time:
    /// `body(start, a[start..<end], b[start..<end])`.
    public static func zip<A, B>(
        _ a: ArrayStream<A>, _ b: ArrayStream<B>,
        _ body: (_ start: Int, UnsafeBufferPointer<A>, UnsafeBufferPointer<B>) throws -> Void
    ) rethrows {
        precondition(a.count == b.count, "streams of one table have one length")
        try a.withPass { pa in
            try b.withPass { pb in
                var start = 0
                while start < a.count {
                    let end = min(a.count, start + chunkRows)
                    let x = pa.take(start..<end), y = pb.take(start..<end)
                    try body(start, x, y)
                    pa.done(start..<end)
                    pb.done(start..<end)
                    start = end
                }
            }
        }
    }
}

extension ArrayStream {
    /// One pass over the array: chunks taken in order, each given back when done; a mapped
    /// array's checksum compared at the end.
    final class Pass {
        let base: UnsafePointer<T>?
        let file: MappedFile?
        let slice: Snapshot.Slice
        let bounds: Range<Int32>?
        var hashes: [UInt64] = []

        init(base: UnsafePointer<T>?, file: MappedFile?, slice: Snapshot.Slice, bounds: Range<Int32>?) {
            self.base = base
            self.file = file
            self.slice = slice
            self.bounds = bounds
        }

        func take(_ rows: Range<Int>) -> UnsafeBufferPointer<T> {
            let chunk = UnsafeBufferPointer(start: base.map { $0 + rows.lowerBound }, count: rows.count)
            guard let file, let start = chunk.baseAddress else { return chunk }
            let stride = MemoryLayout<T>.stride
            let bytes = UnsafeRawBufferPointer(start: UnsafeRawPointer(start), count: rows.count * stride)
            Snapshot.advise(UnsafeRawPointer(start), bytes.count, 22)  // MADV_POPULATE_READ
            // The checksum's MiB chunks, as the writer hashed them.
            let mib = 1 << 20
            var at = 0
            while at < bytes.count {
                let n = min(mib, bytes.count - at)
                hashes.append(Snapshot.hashChunk(UnsafeRawBufferPointer(rebasing: bytes[at..<at + n])))
                at += n
            }
            if let bounds, T.self == Int32.self, !Self.within(UnsafeRawBufferPointer(bytes).assumingMemoryBound(to: Int32.self), bounds) {
                Snapshot.damaged(file.path)
            }
            return chunk
        }

        static func within(_ xs: UnsafeBufferPointer<Int32>, _ bounds: Range<Int32>) -> Bool {
            var lo = Int32.max, hi = Int32.min
            for x in xs {
                lo = Swift.min(lo, x)
                hi = Swift.max(hi, x)
            }
            return xs.isEmpty || (lo >= bounds.lowerBound && hi < bounds.upperBound)
        }

        func done(_ rows: Range<Int>) {
            guard let file else { return }
            let stride = MemoryLayout<T>.stride
            file.release(slice.offset + rows.lowerBound * stride, slice.offset + rows.upperBound * stride)
        }

        func finish() {
            guard let file else { return }
            if Snapshot.combine(hashes, count: slice.count * MemoryLayout<T>.stride) != slice.sum { Snapshot.damaged(file.path) }
        }
    }

    func withPass<R>(_ body: (Pass) throws -> R) rethrows -> R {
        switch source {
        case .memory(let array):
            return try array.withUnsafeBufferPointer { p in
                try body(Pass(base: p.baseAddress, file: nil, slice: Snapshot.Slice(count: p.count, offset: 0, sum: 0), bounds: nil))
            }
        case .mapped(let file, let slice, let bounds):
            return try file.withBytes { bytes in
                guard let b = bytes.baseAddress, slice.offset >= 0, slice.count * MemoryLayout<T>.stride <= bytes.count - slice.offset,
                      (Streams.chunkRows * MemoryLayout<T>.stride) % (1 << 20) == 0
                else { Snapshot.damaged(file.path) }
                let base = UnsafeRawPointer(b + slice.offset).bindMemory(to: T.self, capacity: slice.count)
                let pass = Pass(base: base, file: file, slice: slice, bounds: bounds)
                let r = try body(pass)
                pass.finish()
                return r
            }
        }
    }
}
