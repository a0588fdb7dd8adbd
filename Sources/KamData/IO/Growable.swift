import Dispatch
import Foundation
import KamSyntax

/// An append-only buffer for the parser's inner loop: appends are a bounds check and a
/// store, with none of Array's copy-on-write uniqueness checks.
public final class Growable<T> {
    private(set) var base: UnsafeMutablePointer<T>
    private(set) var count = 0
    private var capacity: Int
    /// False while the buffer is a window of memory someone else owns (`init(window:)`).
    private var owned = true

    public init(capacity: Int = 16) {
        self.capacity = max(16, capacity)
        base = Growable.allocate(self.capacity)
    }

    /// Appends into `capacity` elements at `window`, memory the caller owns and keeps alive
    /// (the final column's array, so a chunk's values need no copy); growing past it moves
    /// them into a buffer of its own. Only for types without deinitialization.
    public init(window: UnsafeMutablePointer<T>, capacity: Int) {
        self.capacity = capacity
        base = window
        owned = false
    }

    /// Whether the values are still where `init(window:)` put them.
    public func lives(at window: UnsafeMutablePointer<T>) -> Bool { !owned && base == window }

    deinit {
        guard owned else { return }
        base.deinitialize(count: count)
        free(base)
    }

    /// Room for `n` elements. A buffer of megabytes starts at a 2 MiB boundary and asks for
    /// huge pages: the parser fills it in order, and a fault every 2 MiB instead of every
    /// 4 KiB was a tenth of a large file's load. Only the pages written are backed, so a
    /// buffer sized by an estimate costs no more than what it holds, rounded to 2 MiB.
    static func allocate(_ n: Int) -> UnsafeMutablePointer<T> {
        let bytes = max(1, n) * MemoryLayout<T>.stride
        let huge = 1 << 21
        if bytes >= 2 * huge {
            var p: UnsafeMutableRawPointer? = nil
            if posix_memalign(&p, huge, bytes) == 0, let p {
                Snapshot.advise(UnsafeRawPointer(p), bytes, 14)  // MADV_HUGEPAGE
                return p.bindMemory(to: T.self, capacity: n)
            }
        }
        guard let p = malloc(bytes) else { fatalError("out of memory (\(bytes) bytes)") }
        return p.bindMemory(to: T.self, capacity: n)
    }

    @inline(__always) public func append(_ v: T) {
        if count == capacity { grow(capacity * 2) }
        (base + count).initialize(to: v)
        count += 1
    }

    public func append(_ v: T, repeating n: Int) {
        reserve(count + n)
        (base + count).initialize(repeating: v, count: n)
        count += n
    }

    public func reserve(_ n: Int) { if n > capacity { grow(n) } }

    private func grow(_ newCapacity: Int) {
        let nb = Growable.allocate(max(newCapacity, 16))
        nb.moveInitialize(from: base, count: count)
        if owned { free(base) }
        owned = true
        base = nb
        capacity = max(newCapacity, 16)
    }

    public var buffer: UnsafeBufferPointer<T> { UnsafeBufferPointer(start: base, count: count) }
}
