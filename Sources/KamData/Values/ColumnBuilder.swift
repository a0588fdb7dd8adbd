import KamSyntax

/// Appends typed values into a column without boxing: the demo generator and readers use
/// these to build large tables quickly.
public struct TypedBuilder<T> {
    public var values: [T] = []
    public var nulls: [Int] = []
    public let zero: T
    public let storage: ([T]) -> ColumnStorage
    public mutating func append(_ v: T) { values.append(v) }
    public mutating func appendNull() { nulls.append(values.count); values.append(zero) }
    public func column() -> Column { Column(storage: storage(values), validity: bitmap(nulls, values.count)) }
}

public typealias IntBuilder = TypedBuilder<Int64>
public typealias FloatBuilder = TypedBuilder<Double>
public typealias DateBuilder = TypedBuilder<Int32>

extension TypedBuilder where T == Int64 { init() { self.init(zero: 0, storage: { .int($0) }) } }
extension TypedBuilder where T == Double { init() { self.init(zero: 0, storage: { .float($0) }) } }
extension TypedBuilder where T == Int32 { init() { self.init(zero: 0, storage: { .date($0) }) } }

public struct StringBuilder {
    public var codes: [UInt32] = []
    public var dictionary: [String] = []
    public var lookup: [String: UInt32] = [:]
    public var nulls: [Int] = []
    public var count: Int { codes.count }
    public mutating func append(_ s: String) {
        // A few distinct values (regions, tiers, stages): comparing is cheaper than hashing.
        if dictionary.count <= 16 {
            for (c, d) in dictionary.enumerated() where d == s {
                codes.append(UInt32(c))
                return
            }
        } else if let c = lookup[s] {
            codes.append(c)
            return
        }
        let c = UInt32(dictionary.count)
        lookup[s] = c
        dictionary.append(s)
        codes.append(c)
    }
    public mutating func appendNull() { nulls.append(codes.count); codes.append(0) }
    public func column() -> Column {
        Column(storage: .string(StringColumn(codes: codes, dictionary: dictionary.isEmpty ? [""] : dictionary)), validity: bitmap(nulls, codes.count))
    }
}

/// Dictionary-encodes strings the caller already knows by a small integer key (an entity's
/// row number, an index into a list of names): no string is hashed, and a string is made
/// only the first time its key appears. The column is the one `StringBuilder` gives for
/// the same strings (dictionary in order of first appearance), provided each key stands
/// for one string and each string for one key.
///
///     var ids = KeyedStringBuilder()
///     ids.append(key: 7) { "A0007" }   // makes "A0007"
///     ids.append(key: 7) { "A0007" }   // reuses its code
public struct KeyedStringBuilder {
    public var codes: [UInt32] = []
    public var dictionary: [String] = []
    /// The code of each key plus one; 0 for a key not seen yet.
    private var codeOfKey: [UInt32] = []
    public var nulls: [Int] = []
    public var count: Int { codes.count }
    public init() {}

    public mutating func append(key: Int, _ make: () -> String) {
        if key < codeOfKey.count {
            let c = codeOfKey[key]
            if c != 0 {
                codes.append(c - 1)
                return
            }
        } else {
            codeOfKey.append(contentsOf: repeatElement(0, count: max(key + 1 - codeOfKey.count, codeOfKey.count)))
        }
        codeOfKey[key] = appendNew(make()) + 1
    }

    /// Appends a string the caller knows is not in the column yet; returns its code.
    @discardableResult
    public mutating func appendNew(_ s: String) -> UInt32 {
        let c = UInt32(dictionary.count)
        dictionary.append(s)
        codes.append(c)
        return c
    }

    /// Appends again a string `appendNew` gave `code`.
    public mutating func append(code: UInt32) { codes.append(code) }

    public mutating func appendNull() { nulls.append(codes.count); codes.append(0) }

    public func column() -> Column {
        Column(storage: .string(StringColumn(codes: codes, dictionary: dictionary.isEmpty ? [""] : dictionary)), validity: bitmap(nulls, codes.count))
    }
}

private func bitmap(_ nulls: [Int], _ n: Int) -> Bitmap? {
    guard !nulls.isEmpty else { return nil }
    var b = Bitmap(count: n, allValid: true)
    for i in nulls { b[i] = false }
    return b
}
