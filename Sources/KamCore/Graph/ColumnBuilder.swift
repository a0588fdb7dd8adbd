/// Appends typed values into a column without boxing: the demo generator and readers use
/// these to build large tables quickly.
struct IntBuilder {
    var values: [Int64] = []
    var nulls: [Int] = []
    mutating func append(_ v: Int64) { values.append(v) }
    mutating func appendNull() { nulls.append(values.count); values.append(0) }
    func column() -> Column { Column(storage: .int(values), validity: bitmap(nulls, values.count)) }
}

struct FloatBuilder {
    var values: [Double] = []
    var nulls: [Int] = []
    mutating func append(_ v: Double) { values.append(v) }
    mutating func appendNull() { nulls.append(values.count); values.append(0) }
    func column() -> Column { Column(storage: .float(values), validity: bitmap(nulls, values.count)) }
}

struct DateBuilder {
    var values: [Int32] = []
    var nulls: [Int] = []
    mutating func append(_ v: Int32) { values.append(v) }
    mutating func appendNull() { nulls.append(values.count); values.append(0) }
    func column() -> Column { Column(storage: .date(values), validity: bitmap(nulls, values.count)) }
}

struct StringBuilder {
    var codes: [UInt32] = []
    var dictionary: [String] = []
    var lookup: [String: UInt32] = [:]
    var nulls: [Int] = []
    var count: Int { codes.count }
    mutating func append(_ s: String) {
        if let c = lookup[s] { codes.append(c); return }
        let c = UInt32(dictionary.count)
        lookup[s] = c
        dictionary.append(s)
        codes.append(c)
    }
    /// Appends a value known to be new (ids, names): skips the dictionary lookup.
    mutating func appendUnique(_ s: String) {
        codes.append(UInt32(dictionary.count))
        dictionary.append(s)
    }
    mutating func appendNull() { nulls.append(codes.count); codes.append(0) }
    func column() -> Column {
        Column(storage: .string(StringColumn(codes: codes, dictionary: dictionary.isEmpty ? [""] : dictionary)), validity: bitmap(nulls, codes.count))
    }
}

private func bitmap(_ nulls: [Int], _ n: Int) -> Bitmap? {
    guard !nulls.isEmpty else { return nil }
    var b = Bitmap(count: n, allValid: true)
    for i in nulls { b[i] = false }
    return b
}
