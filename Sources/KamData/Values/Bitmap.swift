import KamSyntax

/// A validity bitmap: bit i set means row i holds a value (not null).
public struct Bitmap: Sendable {
    public var words: [UInt64]
    public let count: Int

    public init(count: Int, allValid: Bool) {
        self.count = count
        words = [UInt64](repeating: allValid ? ~0 : 0, count: (count + 63) / 64)
    }

    @inlinable public subscript(i: Int) -> Bool {
        get { words[i >> 6] & (1 << UInt64(i & 63)) != 0 }
        set {
            if newValue { words[i >> 6] |= 1 << UInt64(i & 63) } else { words[i >> 6] &= ~(1 << UInt64(i & 63)) }
        }
    }
}
