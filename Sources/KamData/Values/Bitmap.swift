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

extension Bitmap {
    /// The numbers as one array (nil as 0) and the rows that hold one: nil when all do.
    ///
    ///     Bitmap.split([1.5, nil]) // ([1.5, 0], a bitmap with row 1 null)
    public static func split(_ xs: [Double?]) -> (values: [Double], valid: Bitmap?) {
        var valid: Bitmap? = nil
        for (i, x) in xs.enumerated() where x == nil {
            if valid == nil { valid = Bitmap(count: xs.count, allValid: true) }
            valid?[i] = false
        }
        return (xs.map { $0 ?? 0 }, valid)
    }
}
