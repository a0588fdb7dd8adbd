import Dispatch
import Foundation
import KamSyntax

/// An append-only buffer for the parser's inner loop: appends are a bounds check and a
/// store, with none of Array's copy-on-write uniqueness checks.
public final class Growable<T> {
    private(set) var base: UnsafeMutablePointer<T>
    private(set) var count = 0
    private var capacity: Int

    public init(capacity: Int = 16) {
        self.capacity = max(16, capacity)
        base = .allocate(capacity: self.capacity)
    }

    deinit {
        base.deinitialize(count: count)
        base.deallocate()
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
        let nb = UnsafeMutablePointer<T>.allocate(capacity: newCapacity)
        nb.moveInitialize(from: base, count: count)
        base.deallocate()
        base = nb
        capacity = newCapacity
    }

    public var buffer: UnsafeBufferPointer<T> { UnsafeBufferPointer(start: base, count: count) }
}
