import Foundation
import KamCore

/// The inputs kam reads from outside, each as a fuzz target: the lexer, parser and checker
/// (`parser`), the CSV reader (`csv`), the JSON reader (`json`), the TOML reader (`toml`)
/// and the manifest (`manifest`: a kam.toml, or kam.json, applied to a small dataset, so
/// renames, types, links and derived columns all run).
/// Every input must end in a value or a diagnostic, never a trap.
///
/// Built with libFuzzer (`scripts/fuzz --libfuzzer TARGET SECONDS`), the target is chosen by
/// `KAM_FUZZ_TARGET`; built normally, `kam-fuzz TARGET FILE...` replays inputs, which is how
/// the test suite replays every crash found (Tests/Fuzz/regressions/TARGET/).
enum FuzzTargets {
    static let names = ["parser", "csv", "json", "toml", "manifest"]

    /// The dataset the manifest target loads: written once, beside the manifest it is given.
    static let dataset: String = {
        let dir = NSTemporaryDirectory() + "kam-fuzz-manifest-\(getpid())"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let files = [
            "customers.csv": "CustomerID,CompanyName,Country\nALP,Alpine,AT\nBAL,Baltic,LV\n",
            "employees.csv": "id,name,manager_id\nE1,Ada,\nE2,Bruno,E1\n",
            "products.csv": "id,name,category\nP1,Tea,Drinks\nP2,Cheese,Dairy\n",
            "headers.csv": "OrderID,CustomerID,EmployeeID,OrderDate\n1,ALP,E1,2025-01-15\n2,BAL,E2,2025-03-02\n",
            "lines.csv": "HeaderID,product_id,UnitPrice,Quantity,Discount\n1,P1,18.0,10,0\n1,P2,32.0,5,0.1\n2,P2,32.0,20,0.05\n",
        ]
        for (name, text) in files { try? text.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8) }
        return dir
    }()

    /// One session for the checker, made once: the fuzzer calls the target millions of times.
    nonisolated(unsafe) static let session = Session()

    static func run(_ target: String, _ bytes: [UInt8]) {
        switch target {
        case "parser":
            let text = String(decoding: bytes, as: UTF8.self)
            if let program = try? Parser.parse(Source(name: "<fuzz>", text: text)) {
                _ = Checker(session.interpreter).check(program, warnUnusedParameters: false, requireParameters: false)
            }
        case "csv":
            _ = try? CSVReader().read(bytes, name: "fuzz.csv")
            // Cut into tiny chunks too (columns then made in place, windows and fallbacks):
            // the same table as one chunk, or the same failure.
            bytes.withUnsafeBufferPointer { b in
                guard let base = b.baseAddress else { return }
                func parse(_ chunk: Int) -> Table? {
                    var p = CSVParser(base: base, count: b.count, delimiter: 44, nullTokens: [[]], name: "fuzz.csv")
                    p.chunkTarget = chunk
                    return try? p.parse().0
                }
                let one = parse(1 << 40), many = parse(48)
                guard let one, let many else {
                    if (one == nil) != (many == nil) { fatalError("csv: one chunk \(one == nil ? "fails" : "parses"), many \(many == nil ? "fail" : "parse")") }
                    return
                }
                guard one.count == many.count, one.names == many.names, one.columnTypes == many.columnTypes else {
                    fatalError("csv: one chunk and many differ in shape")
                }
                for c in 0..<one.columns.count {
                    for r in 0..<one.count {
                        let x = one.columns[c].value(at: r), y = many.columns[c].value(at: r)
                        let same: Bool
                        if case .float(let u) = x, case .float(let v) = y { same = u.bitPattern == v.bitPattern } else { same = x.kamEquals(y) && x.isNull == y.isNull }
                        if !same { fatalError("csv: column \(c) row \(r): one chunk \(x), many \(y)") }
                    }
                }
            }
        case "json":
            _ = try? JSONReader.readTable(bytes, name: "fuzz.json")
            // The typed reader cut into tiny chunks, so every cut is tried on small inputs.
            _ = bytes.withUnsafeBufferPointer { JSONTableReader.read($0, cores: 3, smallest: 16) }
        case "toml":
            var reader = TOMLReader(bytes: bytes)
            _ = try? reader.parse()
        case "manifest":
            let json = bytes.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x09 && $0 != 0x0D }) == UInt8(ascii: "{")
            let path = dataset + (json ? "/kam.json" : "/kam.toml")
            guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { return }
            _ = try? DerivedColumns.load(dataset, manifest: path)
            try? FileManager.default.removeItem(atPath: path)
        default:
            break
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func kamFuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let target = ProcessInfo.processInfo.environment["KAM_FUZZ_TARGET"] ?? "parser"
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    FuzzTargets.run(target, bytes)
    return 0
}

#if FUZZING
// SwiftPM links an executable's entry point as kam_fuzz_main; with libFuzzer it hands over
// to libFuzzer's driver, which then calls the target above.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32

@_cdecl("kam_fuzz_main")
func kamFuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32 {
    var count = argc
    var vector: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
    return withUnsafeMutablePointer(to: &vector) { v in
        LLVMFuzzerRunDriver(&count, UnsafeMutableRawPointer(v).assumingMemoryBound(to: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?.self)) { data, size in
            kamFuzzTestOneInput(data, size)
        }
    }
}
#else
/// `kam-fuzz TARGET PATH...`: runs each file (or each file in a directory) through the
/// target, as the fuzzer would.
@main
struct Replay {
    static func main() {
        let args = Array(CommandLine.arguments.dropFirst())
        guard let target = args.first, FuzzTargets.names.contains(target) else {
            FileHandle.standardError.write(Data("usage: kam-fuzz \(FuzzTargets.names.joined(separator: "|")) FILE_OR_DIR...\n".utf8))
            exit(2)
        }
        var files: [String] = []
        for path in args.dropFirst() {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { continue }
            if isDir.boolValue {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
                files += names.filter { !$0.hasPrefix(".") }.sorted().map { path + "/" + $0 }
            } else {
                files.append(path)
            }
        }
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else { continue }
            FuzzTargets.run(target, Array(data))
        }
        if target == "manifest" { try? FileManager.default.removeItem(atPath: FuzzTargets.dataset) }
        print("\(target): replayed \(files.count) inputs")
    }
}
#endif
