/// Terminal display width of text: wide East Asian characters take two cells, combining
/// marks and zero-width characters none. Enough of wcwidth for table layout.
public func displayWidth(_ s: String) -> Int {
    var width = 0
    for scalar in s.unicodeScalars { width += scalarWidth(scalar) }
    return width
}

@inline(__always)
public func scalarWidth(_ s: Unicode.Scalar) -> Int {
    let v = s.value
    if v < 0x300 { return v < 0x20 || (v >= 0x7F && v < 0xA0) ? 0 : 1 }
    switch s.properties.generalCategory {
    case .nonspacingMark, .enclosingMark, .format: return 0
    default: break
    }
    if v == 0x200B { return 0 }
    if (0x1100...0x115F).contains(v) || (0x2E80...0x303E).contains(v) || (0x3041...0x33FF).contains(v)
        || (0x3400...0x4DBF).contains(v) || (0x4E00...0x9FFF).contains(v) || (0xA000...0xA4CF).contains(v)
        || (0xAC00...0xD7A3).contains(v) || (0xF900...0xFAFF).contains(v) || (0xFE30...0xFE4F).contains(v)
        || (0xFF00...0xFF60).contains(v) || (0xFFE0...0xFFE6).contains(v) || (0x1F300...0x1F64F).contains(v)
        || (0x1F900...0x1F9FF).contains(v) || (0x20000...0x3FFFD).contains(v)
    {
        return 2
    }
    return 1
}
