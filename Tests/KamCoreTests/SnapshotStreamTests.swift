import Foundation
import Testing
@testable import KamData

/// The snapshot written as the load goes: each table as soon as its file is parsed, the
/// links and the key once the graph is whole. What reads back is the graph, never a table
/// written early that the graph no longer holds; nothing is in place until the end.
@Suite("snapshots written while loading")
struct SnapshotStreamTests {
    /// A demo dataset on disk, loaded, with the tables as the loader handed them over.
    static func loaded() throws -> (dir: String, graph: AccountGraph, report: DatasetLoader.Report, tables: [Table]) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kam-stream-\(UUID().uuidString)").path
        try CSVWriter.writeDataset(Demo.generate(accounts: 40, seed: 5), to: dir + "/crm")
        var tables: [Table] = []
        let (graph, report) = try DatasetLoader.load(dir + "/crm", options: .init(loaded: { tables.append($0) }))
        return (dir, graph, report, tables)
    }

    static func size(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? -1
    }

    /// Every entity of `back` holds the rows, names and links of `graph`'s.
    static func expectSame(_ back: AccountGraph, _ graph: AccountGraph) {
        #expect(back.entities.map(\.name) == graph.entities.map(\.name))
        for (b, e) in zip(back.entities, graph.entities) {
            #expect(b.table.names == e.table.names, "\(e.name)")
            #expect(b.table.count == e.table.count, "\(e.name)")
            #expect(b.table.name == e.table.name, "\(e.name)")
            #expect(b.forward.map(\.rows) == e.forward.map(\.rows), "\(e.name)")
            for c in 0..<min(b.table.names.count, e.table.names.count) {
                let x = b.table.columns[c], y = e.table.columns[c]
                for r in 0..<min(x.count, y.count) where !x.value(at: r).kamEquals(y.value(at: r)) {
                    Issue.record("\(e.name).\(e.table.names[c]) row \(r): \(x.value(at: r)) != \(y.value(at: r))")
                    return
                }
            }
        }
    }

    @Test func tablesWrittenEarlyAreTheGraphsAndAreNotWrittenTwice() throws {
        let (dir, graph, report, tables) = try Self.loaded()
        // The loader hands over every file's table, the largest file's first.
        #expect(tables.count == graph.entities.count)
        let files = try FileManager.default.contentsOfDirectory(atPath: dir + "/crm")
        let largest = try #require(files.max { Self.size(dir + "/crm/" + $0) < Self.size(dir + "/crm/" + $1) })
        let entity = try #require(graph.entity(DatasetLoader.entityName(DatasetLoader.base(largest))))
        #expect(tables.first.map { Snapshot.same($0, entity.table) } == true)
        let early = dir + "/early.snap", late = dir + "/late.snap"
        let stream = try Snapshot.Stream(path: early)
        for t in tables { stream.add(t) }
        // Nothing is in place before the end.
        #expect(!FileManager.default.fileExists(atPath: early))
        try stream.finish(graph, report, key: "k")
        try Snapshot.write(graph, report, key: "k", to: late)
        // The linked graph's tables share their arrays with the loaded ones: each is in the
        // file once (the same bytes as a snapshot written at the end, in another order).
        #expect(Self.size(early) == Self.size(late))
        let (back, _) = try #require(Snapshot.read(early, key: "k"))
        Self.expectSame(back, graph)
        #expect(Snapshot.read(early, key: "other") == nil)
        #expect(Snapshot.partialEntities(early, key: "k") == nil)
    }

    @Test func aTableTheGraphDoesNotHoldIsWrittenButNeverRead() throws {
        let (dir, graph, report, tables) = try Self.loaded()
        let path = dir + "/s.snap"
        let stream = try Snapshot.Stream(path: path)
        // Equal values in arrays of their own (a table a derived column replaced, say): not
        // the graph's table, which `finish` then writes.
        let copy = try #require(tables.first)
        let columns = copy.columns.map { c -> Column in
            var c = c
            if case .int(let a) = c.storage { c.storage = .int(a.map { $0 }) }
            if case .float(let a) = c.storage { c.storage = .float(a.map { $0 }) }
            return c
        }
        stream.add(Table(names: copy.names, columns: columns, count: copy.count))
        stream.add(Table(names: ["x"], columns: [Column(storage: .int([1, 2, 3]))], count: 3))
        try stream.finish(graph, report, key: Snapshot.key("k", entities: graph.entities.map(\.name)))
        let (back, _) = try #require(Snapshot.read(path, key: "k", needing: Set(graph.entities.map(\.name))))
        Self.expectSame(back, graph)
        #expect(Snapshot.partialEntities(path, key: "k") == Set(graph.entities.map(\.name)))
    }

    @Test func anAbandonedSnapshotLeavesNothing() throws {
        let (dir, _, _, tables) = try Self.loaded()
        let path = dir + "/s.snap"
        let stream = try Snapshot.Stream(path: path)
        for t in tables { stream.add(t) }
        #expect(FileManager.default.fileExists(atPath: path + ".\(getpid()).tmp"))
        stream.abandon()
        #expect(!FileManager.default.fileExists(atPath: path + ".\(getpid()).tmp"))
        #expect(!FileManager.default.fileExists(atPath: path))
    }
}
