import Dispatch
import Foundation
import KamSyntax

private struct UncheckedSendable<T>: @unchecked Sendable { let value: T }

/// Runs `body(0..<n)` on every core. The body writes only to its own slot of shared
/// buffers, which is why it need not be Sendable.
public func parallelFor(_ n: Int, _ body: (Int) -> Void) {
    if n == 1 { body(0); return }
    withoutActuallyEscaping(body) { body in
        let box = UncheckedSendable(value: body)
        DispatchQueue.concurrentPerform(iterations: n) { box.value($0) }
    }
}
