import Foundation
import Testing

/// The snapshot a run leaves of its dataset: the next run reads it instead of the files,
/// and answers the same; a changed file, a snapshot cut short or full of noise, or
/// --no-cache make it parse the files again. Never a stale answer.
@Suite("snapshots of datasets")
struct SnapshotTests {
    static let script = "accounts | derive revenue = sum(orders.amount), n = count(orders) | top 5 by revenue | select name, revenue, n"

    /// A dataset of its own and a cache of its own.
    static func setUp() throws -> (data: String, cache: String) {
        let dir = try tempDir()
        let demo = try Binary.run(["demo", "--out", dir + "/crm", "--accounts", "60"])
        #expect(demo.status == 0, "\(demo.stderr)")
        try FileManager.default.createDirectory(atPath: dir + "/cache", withIntermediateDirectories: true)
        return (dir + "/crm", dir + "/cache")
    }

    static func run(_ data: String, _ cache: String, _ extra: [String] = [], script: String = SnapshotTests.script,
                    env: [String: String] = [:]) throws -> Binary.Result {
        try Binary.run(["--data", data, "--timing", "--quiet"] + extra + ["-c", script], env: ["XDG_CACHE_HOME": cache].merging(env) { $1 })
    }

    static func snapshots(_ cache: String) -> [String] {
        let dir = cache + "/kam/snapshots"
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".snap") }.map { dir + "/" + $0 }
    }

    static func fromSnapshot(_ r: Binary.Result) -> Bool { r.stderr.contains("timing: load (snapshot)") }

    @Test func theSecondRunReadsTheSnapshotAndAnswersTheSame() throws {
        let (data, cache) = try Self.setUp()
        let cold = try Self.run(data, cache)
        #expect(cold.status == 0, "\(cold.stderr)")
        #expect(!Self.fromSnapshot(cold))
        #expect(Self.snapshots(cache).count == 1)
        let warm = try Self.run(data, cache)
        #expect(Self.fromSnapshot(warm), "\(warm.stderr)")
        #expect(warm.stdout == cold.stdout)
        // Every entity, column and link as parsed: a script over all of them agrees too. The
        // snapshot of the two entities the first script read is short for it: it parses
        // every file and leaves a snapshot of them all.
        let all = "schema()\naccounts\ncontacts\norders\ninvoices\nsurveys\ninteractions\n"
            + "accounts | health | select name, health, risk_points, reasons\naccounts | derive people = count(contacts), touches = count(contacts.interactions) | select id, people, touches"
        let grown = try Self.run(data, cache, ["--format", "json"], script: all)
        #expect(grown.status == 0 && !Self.fromSnapshot(grown), "\(grown.stderr)")
        #expect(grown.stdout.contains("risk_points"))
        let parsed = try Self.run(data, cache, ["--no-cache", "--format", "json"], script: all)
        let mapped = try Self.run(data, cache, ["--format", "json"], script: all)
        #expect(parsed.status == 0 && mapped.status == 0, "\(parsed.stderr)")
        #expect(parsed.stdout == mapped.stdout)
        #expect(Self.fromSnapshot(mapped))
        #expect(!Self.fromSnapshot(parsed))
    }

    /// A file changed between runs, its size and modification time kept, is seen.
    @Test func aFileChangedWithTheSameSizeAndTimeIsParsedAgain() throws {
        let (data, cache) = try Self.setUp()
        _ = try Self.run(data, cache)
        let orders = data + "/orders.csv"
        let attributes = try FileManager.default.attributesOfItem(atPath: orders)
        var text = try String(contentsOfFile: orders, encoding: .utf8)
        // One amount's first digit, in the middle of the file: same size.
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let header = lines[0].split(separator: ",").map(String.init)
        let amount = try #require(header.firstIndex(of: "amount"))
        var changed = lines
        let k = lines.count / 2
        var fields = changed[k].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let digit = try #require(fields[amount].first)
        fields[amount] = String(digit == "9" ? "1" : "9") + fields[amount].dropFirst()
        changed[k] = fields.joined(separator: ",")
        text = changed.joined(separator: "\n")
        try text.write(toFile: orders, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.modificationDate: attributes[.modificationDate] as Any], ofItemAtPath: orders)
        #expect((try FileManager.default.attributesOfItem(atPath: orders))[.size] as? Int == attributes[.size] as? Int)
        let after = try Self.run(data, cache, script: "orders | sum(amount)")
        let truth = try Self.run(data, cache, ["--no-cache"], script: "orders | sum(amount)")
        #expect(!Self.fromSnapshot(after), "\(after.stderr)")
        #expect(after.stdout == truth.stdout)
    }

    /// A snapshot cut short, or overwritten with noise, is not trusted: the files are
    /// parsed again, the answer is right, and a good snapshot is written in its place.
    @Test func aSnapshotCutShortOrNoisyIsNotTrusted() throws {
        let (data, cache) = try Self.setUp()
        let cold = try Self.run(data, cache)
        let snap = try #require(Self.snapshots(cache).first)
        let bytes = try #require(FileManager.default.contents(atPath: snap))
        for cut in [0, 7, 100, bytes.count / 2, bytes.count - 9, bytes.count - 1] {
            try bytes.prefix(cut).write(to: URL(fileURLWithPath: snap))
            let r = try Self.run(data, cache)
            #expect(r.status == 0, "cut at \(cut): \(r.stderr)")
            #expect(!Self.fromSnapshot(r), "cut at \(cut)")
            #expect(r.stdout == cold.stdout, "cut at \(cut)")
        }
        // Noise of the right length, and the right header over noise.
        var noise = bytes
        for i in stride(from: 64, to: noise.count - 16, by: 97) { noise[i] ^= 0x5a }
        try noise.write(to: URL(fileURLWithPath: snap))
        let noisy = try Self.run(data, cache)
        #expect(noisy.status == 0, "\(noisy.stderr)")
        #expect(!Self.fromSnapshot(noisy))
        #expect(noisy.stdout == cold.stdout)
        let again = try Self.run(data, cache)
        #expect(Self.fromSnapshot(again))
        #expect(again.stdout == cold.stdout)
        // One byte changed inside a column's bytes (read only when a script asks for the
        // column): the run stops with an error instead of answering from it, the snapshot
        // is removed, and the next run is right.
        let all = "accounts\ncontacts\norders\ninvoices\ninteractions"
        let truth = try Self.run(data, cache, ["--no-cache"], script: all)
        _ = try Self.run(data, cache, script: all)
        var flipped = try #require(FileManager.default.contents(atPath: snap))
        flipped[flipped.count * 3 / 5] ^= 0x01
        try flipped.write(to: URL(fileURLWithPath: snap))
        let damaged = try Self.run(data, cache, script: all)
        if damaged.status == 0 {
            #expect(damaged.stdout == truth.stdout)
        } else {
            #expect(damaged.status == 4)
            #expect(damaged.stderr.contains("error: the snapshot \(snap) is damaged (a column does not match its checksum); it is removed: run again"), "\(damaged.stderr)")
            #expect(!FileManager.default.fileExists(atPath: snap))
        }
        let next = try Self.run(data, cache, script: all)
        #expect(next.status == 0)
        #expect(next.stdout == truth.stdout)
    }

    /// Arrays of 2 MB and more are checked, copied and given back to the kernel a megabyte
    /// at a time on the cores: read whole they answer as parsed, and a byte changed in any
    /// of their chunks stops the run (or is never read), never a wrong answer.
    @Test func aLargeColumnIsReadInChunksAndCheckedWhole() throws {
        let dir = try tempDir()
        let cache = dir + "/cache"
        // ids past 32 bits, stored as 64-bit integers; q fits 32 bits and is stored narrow;
        // amount is whole cents, stored as 32-bit integers of cents; r is stored as floats.
        var csv = "id,amount,q,r\n"
        for i in 0..<600_000 { csv += "\(Int64(i) * 10_000_000_007),\(Double(i) * 0.25 + 1),\(i % 1000 - 500),\(Double(i) / 7)\n" }
        try csv.write(toFile: dir + "/big.csv", atomically: true, encoding: .utf8)
        let script = "sum(big.amount)\nsum(big.q)\nsum(big.r)\ncount(big)\nbig | where id % 99991 == 7 | select id, amount, q, r"
        let truth = try Self.run(dir + "/big.csv", cache, ["--no-cache"], script: script)
        #expect(truth.status == 0, "\(truth.stderr)")
        #expect(truth.stdout.contains("600000"))
        _ = try Self.run(dir + "/big.csv", cache, script: script)
        let warm = try Self.run(dir + "/big.csv", cache, script: script)
        #expect(Self.fromSnapshot(warm))
        #expect(warm.stdout == truth.stdout)
        let snap = try #require(Self.snapshots(cache).first)
        let bytes = try #require(FileManager.default.contents(atPath: snap))
        #expect(bytes.count > 14_000_000)
        for at in [bytes.count / 4, bytes.count / 2 + 12_345, bytes.count * 3 / 4, bytes.count - 300_000] {
            var flipped = bytes
            flipped[at] ^= 0x10
            try flipped.write(to: URL(fileURLWithPath: snap))
            let r = try Self.run(dir + "/big.csv", cache, script: script)
            if r.status == 0 {
                #expect(r.stdout == truth.stdout, "byte \(at)")
            } else {
                #expect(r.status == 4, "byte \(at): \(r.stderr)")
                #expect(r.stderr.contains("is damaged"), "byte \(at): \(r.stderr)")
            }
            let next = try Self.run(dir + "/big.csv", cache, script: script)
            #expect(next.status == 0 && next.stdout == truth.stdout, "byte \(at): \(next.stderr)")
            _ = try Self.run(dir + "/big.csv", cache, script: script)
        }
    }

    /// An aggregate over a link in a repeated run reads the column and the link from the
    /// snapshot a chunk at a time (never whole): sums, averages, extremes and counts of
    /// 64-bit, 32-bit and float columns with nulls, over several chunks, answer bit for bit
    /// as parsed, and also once the column has been read whole; a byte changed in the
    /// streamed column stops the run before it prints anything.
    @Test func aggregatesOverALinkStreamTheSnapshotAndAnswerAsParsed() throws {
        let dir = try tempDir()
        let cache = dir + "/cache"
        let data = dir + "/crm"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        var accounts = "id,name\n"
        for a in 0..<3000 { accounts += "\(a),A\(a)\n" }
        try accounts.write(toFile: data + "/accounts.csv", atomically: true, encoding: .utf8)
        // 700,000 orders: more than two chunks of 262,144 rows; amount null every 97th row.
        var orders = "id,account_id,amount,q,big\n"
        for i in 0..<700_000 {
            let account = (i &* 7919) % 3000
            let amount = i % 97 == 0 ? "" : "\(Double(i % 10_007) * 0.01 + 0.1)"
            orders += "\(i),\(account),\(amount),\(i % 1000 - 500),\(Int64(i) * 10_000_000_019)\n"
        }
        try orders.write(toFile: data + "/orders.csv", atomically: true, encoding: .utf8)
        let derive = "accounts | derive s = sum(orders.amount), a = avg(orders.amount), lo = min(orders.q), hi = max(orders.big), "
            + "n = count(orders.amount), sq = sum(orders.q), aq = avg(orders.q), mx = max(orders.amount) | top 40 by s"
        let script = derive + "\nsum(orders.amount)\n" + derive
        let truth = try Self.run(data, cache, ["--no-cache", "--format", "csv"], script: script)
        #expect(truth.status == 0, "\(truth.stderr)")
        _ = try Self.run(data, cache, ["--format", "csv"], script: script)
        let warm = try Self.run(data, cache, ["--format", "csv"], script: script)
        #expect(Self.fromSnapshot(warm), "\(warm.stderr)")
        #expect(warm.status == 0 && warm.stdout == truth.stdout, "\(warm.stderr)")
        // The amount of order 300,001 (a row of the third chunk), as the snapshot holds it.
        let snap = try #require(Self.snapshots(cache).first)
        var bytes = try #require(FileManager.default.contents(atPath: snap))
        let needle = withUnsafeBytes(of: (Double(300_001 % 10_007) * 0.01 + 0.1).bitPattern.littleEndian) { Data($0) }
        let at = try #require(bytes.range(of: needle)).lowerBound
        bytes[at] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: snap))
        let damaged = try Self.run(data, cache, ["--format", "csv"], script: derive)
        #expect(damaged.status == 4, "\(damaged.stderr)")
        #expect(damaged.stderr.contains("is damaged"), "\(damaged.stderr)")
        #expect(damaged.stdout.isEmpty)
    }

    /// Every dataset directory of the golden corpus (renames, derived columns, JSON, nulls,
    /// dates, text, mixed columns, warnings, datasets that fail to load): read through its
    /// snapshot it prints what it prints parsed, every entity whole, the warnings and errors.
    @Test func everyGoldenDatasetReadsBackTheSame() throws {
        let root = Binary.packageRoot.appendingPathComponent("Tests/KamGoldenTests/Golden/graph").path
        let dirs = try FileManager.default.contentsOfDirectory(atPath: root).sorted().filter { n in
            var isDir: ObjCBool = false
            return FileManager.default.fileExists(atPath: root + "/" + n, isDirectory: &isDir) && isDir.boolValue
                && !(n.hasPrefix("sqlite") || n.contains("derive_bad"))
        }
        #expect(dirs.count >= 10)
        // (The ones that fail to load fail alike, parsed each time: no snapshot is written of them.)
        let cache = try tempDir()
        var compared = 0
        for d in dirs {
            let data = root + "/" + d
            let parsed = try Binary.run(["--data", data, "--format", "json", "-c", "schema()"], env: ["XDG_CACHE_HOME": cache])
            let entities = parsed.stdout.split(separator: "\"entity\": \"").dropFirst().compactMap { $0.split(separator: "\"").first.map(String.init) }
            let script = (["schema()"] + entities).joined(separator: "\n")
            let fresh = try Binary.run(["--data", data, "--no-cache", "--format", "json", "--today", "2026-07-01", "-c", script], env: ["XDG_CACHE_HOME": cache])
            _ = try Binary.run(["--data", data, "--format", "json", "--today", "2026-07-01", "-c", script], env: ["XDG_CACHE_HOME": cache])
            let mapped = try Binary.run(["--data", data, "--timing", "--format", "json", "--today", "2026-07-01", "-c", script], env: ["XDG_CACHE_HOME": cache])
            #expect(mapped.status == fresh.status, "\(d)")
            #expect(mapped.stdout == fresh.stdout, "\(d)")
            // The load summary and warnings too (the timing lines aside).
            let shown = mapped.stderr.split(separator: "\n").filter { !$0.hasPrefix("timing:") }.joined(separator: "\n")
            let expected = fresh.stderr.split(separator: "\n").filter { !$0.hasPrefix("timing:") }.joined(separator: "\n")
            #expect(shown == expected, "\(d)")
            if fresh.status == 0, mapped.stderr.contains("timing: load (snapshot)") { compared += 1 }
        }
        #expect(compared >= 6, "datasets read through a snapshot: \(compared)")
    }

    /// A run killed while writing leaves only NAME.PID.tmp, which is never read: the next
    /// run parses the files and removes it.
    @Test func aKilledWriteLeavesNothingThatLoads() throws {
        let (data, cache) = try Self.setUp()
        let cold = try Self.run(data, cache)
        let snap = try #require(Self.snapshots(cache).first)
        let bytes = try #require(FileManager.default.contents(atPath: snap))
        try FileManager.default.removeItem(atPath: snap)
        let stale = snap + ".999999.tmp"
        try bytes.prefix(bytes.count / 3).write(to: URL(fileURLWithPath: stale))
        let r = try Self.run(data, cache)
        #expect(!Self.fromSnapshot(r))
        #expect(r.stdout == cold.stdout)
        #expect(!FileManager.default.fileExists(atPath: stale))
        #expect(Self.snapshots(cache) == [snap])
    }

    /// The snapshot is written as the files are read, the largest first: a file that fails
    /// after others were written leaves no snapshot and no temporary file behind.
    @Test func aLoadThatFailsLeavesNoSnapshotBehind() throws {
        let (data, cache) = try Self.setUp()
        try Data("id,account_id,name\n1,1,\"Ann\n".utf8).write(to: URL(fileURLWithPath: data + "/contacts.csv"))
        let r = try Self.run(data, cache, script: "contacts | count()")
        #expect(r.status == 4)
        #expect(r.stderr.contains("contacts.csv:2: error: unterminated quoted field"), "\(r.stderr)")
        let dir = cache + "/kam/snapshots"
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).isEmpty)
        // The files that do read still make a snapshot.
        let ok = try Self.run(data, cache)
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(Self.snapshots(cache).count == 1)
    }

    /// Files are read largest first, yet of two broken files the error is the first's by
    /// name, as it was when they were read in order.
    @Test func ofTwoBrokenFilesTheFirstByNameIsReported() throws {
        let (data, cache) = try Self.setUp()
        try Data("id,account_id,name\n1,1,\"Ann\n".utf8).write(to: URL(fileURLWithPath: data + "/contacts.csv"))
        let big = "id,account_id\n" + String(repeating: "1,2\n", count: 5000) + "1,\"2\n"
        try Data(big.utf8).write(to: URL(fileURLWithPath: data + "/orders.csv"))
        for extra in [[], ["--no-cache"]] {
            let r = try Self.run(data, cache, extra, script: "contacts | count()\norders | count()")
            #expect(r.status == 4)
            #expect(r.stderr.contains("contacts.csv:2: error: unterminated quoted field"), "\(r.stderr)")
            #expect(!r.stderr.contains("orders.csv"), "\(r.stderr)")
        }
    }

    /// --no-cache and KAM_NO_CACHE neither read nor write; kam cache shows and clears.
    @Test func noCacheAndCacheClear() throws {
        let (data, cache) = try Self.setUp()
        let none = try Self.run(data, cache, ["--no-cache"])
        #expect(none.status == 0)
        #expect(Self.snapshots(cache).isEmpty)
        _ = try Self.run(data, cache, env: ["KAM_NO_CACHE": "1"])
        #expect(Self.snapshots(cache).isEmpty)
        _ = try Self.run(data, cache)
        #expect(Self.snapshots(cache).count == 1)
        let shown = try Binary.run(["cache"], env: ["XDG_CACHE_HOME": cache])
        #expect(shown.stdout.hasPrefix(cache + "/kam/snapshots: 1 snapshot, "), "\(shown.stdout)")
        let cleared = try Binary.run(["cache", "clear"], env: ["XDG_CACHE_HOME": cache])
        #expect(cleared.status == 0)
        #expect(cleared.stderr == "kam: removed 1 snapshot from \(cache)/kam/snapshots\n")
        #expect(Self.snapshots(cache).isEmpty)
        let bad = try Binary.run(["cache", "flush"], env: ["XDG_CACHE_HOME": cache])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("Error: unknown cache action 'flush'; use kam cache (show) or kam cache clear"), "\(bad.stderr)")
        // A manifest is part of the key: editing it makes the snapshot stale.
        _ = try Self.run(data, cache)
        try "[entities.orders.derive]\nbig = \"amount > 1000\"\n".write(toFile: data + "/kam.toml", atomically: true, encoding: .utf8)
        let withManifest = try Self.run(data, cache, script: "orders | where big | count")
        #expect(withManifest.status == 0, "\(withManifest.stderr)")
        #expect(!Self.fromSnapshot(withManifest))
        let warm = try Self.run(data, cache, script: "orders | where big | count")
        #expect(Self.fromSnapshot(warm))
        #expect(warm.stdout == withManifest.stdout)
    }
    /// A script is read only the entities its text can reach; the answer is the one of the
    /// whole dataset, and the summary says which files were left unread.
    @Test func onlyTheEntitiesAScriptNamesAreRead() throws {
        let (data, cache) = try Self.setUp()
        let some = try Binary.run(["--data", data, "--no-cache", "-c", Self.script], env: ["XDG_CACHE_HOME": cache])
        #expect(some.status == 0, "\(some.stderr)")
        #expect(some.stderr.contains("  not read (the script names none of them): contacts, contracts, employees, interactions, invoices, opportunities, products, relationships, surveys\n"), "\(some.stderr)")
        #expect(!some.stderr.contains("  contacts: "))
        // --strict reads every file (each one's dangling references are errors).
        let every = try Binary.run(["--data", data, "--no-cache", "--strict", "-c", Self.script], env: ["XDG_CACHE_HOME": cache])
        #expect(every.status == 0 && !every.stderr.contains("not read"), "\(every.stderr)")
        #expect(some.stdout == every.stdout && !some.stdout.isEmpty)
        // A link's name reads its target: product is products.
        let linked = try Binary.run(["--data", data, "--no-cache", "-c", "orders | derive c = product.category | aggregate n = count() by c | sort c"],
                                    env: ["XDG_CACHE_HOME": cache])
        #expect(linked.status == 0, "\(linked.stderr)")
        #expect(linked.stderr.contains("not read (the script names none of them): accounts, contacts, contracts, employees, interactions, invoices, opportunities, relationships, surveys\n"), "\(linked.stderr)")
        // A stage that follows links of its own reads everything.
        let stage = try Binary.run(["--data", data, "--no-cache", "-c", "accounts | health | take 1"], env: ["XDG_CACHE_HOME": cache])
        #expect(stage.status == 0 && !stage.stderr.contains("not read"), "\(stage.stderr)")
    }

    /// A script that does not check against the entities its words name gets the message
    /// the whole dataset gives: the hint lists an entity that was not read at first.
    @Test func aMisspeltNameIsCheckedAgainstEveryEntity() throws {
        let (data, cache) = try Self.setUp()
        let r = try Binary.run(["--data", data, "--no-cache", "--quiet", "-c", "accounts | derive n = count(contcts) | take 1"], env: ["XDG_CACHE_HOME": cache])
        #expect(r.status == 3)
        #expect(r.stderr == """
            <command>:1:29: error: unknown name 'contcts'
             1 | accounts | derive n = count(contcts) | take 1
               |                             ^^^^^^^
            hint: did you mean 'contacts' or 'contracts'?

            """, "\(r.stderr)")
    }

    /// The snapshot of the entities one script read grows when another needs more, and then
    /// serves both; it is never replaced by a smaller one.
    @Test func aSnapshotOfSomeEntitiesGrowsToWhatTheScriptsUse() throws {
        let (data, cache) = try Self.setUp()
        let other = "orders | derive c = product.category | aggregate n = count() by c | sort c"
        let first = try Self.run(data, cache)
        #expect(first.status == 0 && !Self.fromSnapshot(first), "\(first.stderr)")
        let second = try Self.run(data, cache, script: other)
        #expect(second.status == 0 && !Self.fromSnapshot(second), "\(second.stderr)")
        for script in [Self.script, other, Self.script] {
            let again = try Self.run(data, cache, script: script)
            #expect(again.status == 0 && Self.fromSnapshot(again), "\(script): \(again.stderr)")
            #expect(again.stdout == (script == other ? second.stdout : first.stdout))
        }
        #expect(Self.snapshots(cache).count == 1)
    }
    /// A let that takes a link's name is not read in place of the link: the link's far end
    /// is read too (deals_by_owner, the reverse of deals.owner_id), and the answer is the
    /// whole dataset's.
    @Test func aReverseLinkNamedByItsLinkIsFollowed() throws {
        let dir = try tempDir()
        let files = [
            "accounts": "id,name,owner_id\nA1,Acme,E1\nA2,Beta,E2\n",
            "employees": "id,name\nE1,Ann\nE2,Bob\nE3,Cid\n",
            "deals": "id,account_id,owner_id,employee_id,amount\nD1,A1,E1,E2,100\nD2,A2,E2,E3,200\nD3,A2,E2,E2,50\n",
            "products": "id,name\nP1,Widget\n",
        ]
        for (name, text) in files { try text.write(toFile: "\(dir)/\(name).csv", atomically: true, encoding: .utf8) }
        let script = "let deals_by_owner = [1, 2, 3, 4, 5]\nemployees | derive n = count(deals_by_owner) | select id, n"
        let r = try Binary.run(["--data", dir, "--no-cache", "-c", script])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "id,n\nE1,1\nE2,2\nE3,0\n")
        #expect(r.stderr.contains("not read (the script names none of them): accounts, products\n"), "\(r.stderr)")
        let f = try Binary.run(["--data", dir, "--no-cache", "--quiet", "-c", "fn f(e) = count(e.deals_by_owner)\nemployees | derive n = f(it) | select id, n"])
        #expect(f.status == 0 && f.stdout == "id,n\nE1,1\nE2,2\nE3,0\n", "\(f.stderr)")
    }
}

/// Every golden script on a dataset directory answers through the snapshot its first run
/// left (its tables mapped, each column read when used, `where` and `sort` gathering only
/// the columns asked for) what it answers parsing the files: the same output and exit code.
@Suite("snapshot runs against parsed runs")
struct SnapshotDifferentialTests {
    @Test func everyGoldenScriptAnswersThroughTheSnapshotAsParsed() throws {
        let golden = Binary.packageRoot.appendingPathComponent("Tests/KamGoldenTests/Golden").path
        let root = try tempDir()
        let demo = root + "/demo"
        let made = try Binary.run(["demo", "--out", demo])
        #expect(made.status == 0, "\(made.stderr)")
        var compared = 0, mapped = 0
        for (k, (file, path, data)) in try PartialLoadDifferentialTests.scriptsOnDirectories(golden, demo: demo).enumerated() {
            let env = ["XDG_CACHE_HOME": root + "/cache\(k)"]
            let args = ["run", path, "--data", data, "--today", "2026-07-01", "--quiet"]
            let parsed = try Binary.run(args + ["--no-cache"])
            _ = try Binary.run(args, env: env)
            let again = try Binary.run(args + ["--timing"], env: env)
            #expect(again.stdout == parsed.stdout && again.status == parsed.status, "\(file): \(again.stderr)\n---\n\(parsed.stderr)")
            compared += 1
            if again.stderr.contains("timing: load (snapshot)") { mapped += 1 }
        }
        #expect(compared >= 100 && mapped >= 80, "compared \(compared), through a snapshot \(mapped)")
    }
}

/// Reading only the entities a script names gives every golden script the answer reading
/// every file gives (KAM_READ_ALL=1): the same output and exit code, script by script.
@Suite("partial loads against full loads")
struct PartialLoadDifferentialTests {
    /// The golden scripts whose `# data:` line names a dataset directory (`demo`: the demo
    /// company written to `demo`): each script's name, path and directory, in name order.
    static func scriptsOnDirectories(_ golden: String, demo: String) throws -> [(file: String, path: String, data: String)] {
        let files = (FileManager.default.enumerator(atPath: golden)?.compactMap { $0 as? String } ?? []).filter { $0.hasSuffix(".kam") }.sorted()
        var out: [(file: String, path: String, data: String)] = []
        for file in files {
            let path = golden + "/" + file
            let text = try String(contentsOfFile: path, encoding: .utf8)
            guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("# data:") }) else { continue }
            let value = line.dropFirst("# data:".count).trimmingCharacters(in: .whitespaces)
            let data = value == "demo" ? demo : golden + "/" + value
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: data, isDirectory: &isDir), isDir.boolValue else { continue }
            out.append((file, path, data))
        }
        return out
    }

    @Test func everyGoldenScriptAnswersAsWithEveryFile() throws {
        let golden = Binary.packageRoot.appendingPathComponent("Tests/KamGoldenTests/Golden").path
        let demo = try tempDir() + "/demo"
        let made = try Binary.run(["demo", "--out", demo])
        #expect(made.status == 0, "\(made.stderr)")
        var compared = 0, partial = 0
        for (file, path, data) in try Self.scriptsOnDirectories(golden, demo: demo) {
            let args = ["run", path, "--data", data, "--no-cache", "--today", "2026-07-01"]
            let some = try Binary.run(args)
            let every = try Binary.run(args + ["--quiet"], env: ["KAM_READ_ALL": "1"])
            #expect(some.stdout == every.stdout && some.status == every.status, "\(file): \(some.stderr)\n---\n\(every.stderr)")
            compared += 1
            if some.stderr.contains("not read (the script names none of them)") { partial += 1 }
        }
        // Most of the corpus runs on directories, and most scripts name few entities.
        #expect(compared >= 100 && partial >= 15, "compared \(compared), partial \(partial)")
    }
}
