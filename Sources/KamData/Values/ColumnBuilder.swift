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
        if let c = lookup[s] { codes.append(c); return }
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

private func bitmap(_ nulls: [Int], _ n: Int) -> Bitmap? {
    guard !nulls.isEmpty else { return nil }
    var b = Bitmap(count: n, allValid: true)
    for i in nulls { b[i] = false }
    return b
}
