import Foundation
import Testing

/// The reports people share, as they see them: `kam report monday` on the demo company as
/// markdown and as one HTML page (well-formed, nothing outside the file, the same cells as
/// the markdown), and that page drawn by a real browser.
@Suite("reports")
struct ReportTests {
    static let today = "2026-06-30"

    /// (With NO_COLOR a text sparkline is plain characters; a page draws its own. The
    /// comparisons are of the same characters.)
    static func report(_ extra: [String]) throws -> Binary.Result {
        try Binary.run(["report", "monday", "--today", today] + extra, env: ["NO_COLOR": ""])
    }

    /// The cells of every table of an HTML page, in order, as text (a sparkline drawn as an
    /// SVG by its title, the text it draws).
    static func htmlCells(_ html: String) -> [String] {
        html.matches(of: /<td[^>]*>(.*?)<\/td>/).map { m -> String in
            var text = String(m.1)
            if text.hasPrefix("<svg"), let title = text.firstMatch(of: /<title>([^<]*)<\/title>/) { text = String(title.1) }
            return text.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
                .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'").replacingOccurrences(of: "&amp;", with: "&")
        }
    }

    /// The cells of every markdown table, in order (header and rule rows left out).
    static func markdownCells(_ md: String) -> [String] {
        var cells: [String] = []
        var header = true
        for line in md.split(separator: "\n", omittingEmptySubsequences: false) {
            guard line.hasPrefix("| ") else { header = true; continue }
            if header { header = false; continue }
            if line.hasPrefix("| ---") || line.hasPrefix("| ---:") { continue }
            let inner = line.dropFirst(2).dropLast(2)
            cells += inner.components(separatedBy: " | ").map {
                $0.replacingOccurrences(of: "\\|", with: "|").replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&amp;", with: "&")
            }
        }
        return cells.filter { !$0.hasPrefix("---") }
    }

    /// Every tag closed in order (void elements aside): the page parses as its author meant.
    static func wellFormed(_ html: String) -> String? {
        let void: Set<String> = ["meta", "br", "hr", "img", "link", "input"]
        var open: [String] = []
        for m in html.matches(of: /<(\/?)([a-zA-Z][a-zA-Z0-9]*)[^>]*>/) {
            let name = String(m.2).lowercased()
            if void.contains(name) || m.0.hasSuffix("/>") { continue }
            if m.1.isEmpty { open.append(name) } else {
                guard open.last == name else { return "</\(name)> closes <\(open.last ?? "nothing")>" }
                open.removeLast()
            }
        }
        return open.isEmpty ? nil : "unclosed: \(open)"
    }

    @Test func theMondayReviewIsTheSameInEveryFormat() throws {
        let md = try Self.report(["--format", "markdown"])
        #expect(md.status == 0, "\(md.stderr)")
        #expect(md.stdout.hasPrefix("# Monday account review\n"))
        let headings = md.stdout.split(separator: "\n").filter { $0.hasPrefix("## ") }.map(String.init)
        #expect(headings == ["## Accounts at a glance", "## Coverage gaps", "## Renewals in the next 90 days",
                             "## Top cross-sell opportunities", "## Concentration of the base"])
        let dir = try tempDir()
        let html = try Self.report(["--out", dir + "/review.html"])
        #expect(html.status == 0 && html.stdout.isEmpty, "\(html.stderr)")
        let page = try String(contentsOfFile: dir + "/review.html", encoding: .utf8)
        #expect(page.hasPrefix("<!DOCTYPE html>"))
        #expect(Self.wellFormed(page) == nil, "\(Self.wellFormed(page) ?? "")")
        #expect(page.contains("<h1>Monday account review</h1>") && page.contains("as of 2026-06-30"))
        #expect(page.matches(of: /<h2>/).count == 5)
        // Self-contained: nothing is fetched from anywhere.
        for outside in ["http:", "https:", "src=", "href=", "url(", "@import", "<script", "<link", "<iframe"] {
            #expect(!page.contains(outside), "the page refers outside itself: \(outside)")
        }
        // The same numbers and words, cell for cell.
        let cells = Self.htmlCells(page), mdCells = Self.markdownCells(md.stdout)
        #expect(cells.count > 100)
        #expect(cells == mdCells)
        // Each trend is drawn: an inline SVG of twelve bars.
        #expect(page.components(separatedBy: "<svg class=\"spark\" width=\"84\" height=\"18\" role=\"img\">").count - 1 >= 10)
        // Health in its colour, as on the terminal.
        #expect(page.contains("class=\"health red\">red<") && page.contains("class=\"health green\">green<"))
    }

    @Test func theKeyAccountPlanOfOneAccount() throws {
        let dir = try tempDir()
        let r = try Binary.run(["report", "plan", "--account", "Dynium SA", "--today", Self.today, "--out", dir + "/plan.html"])
        #expect(r.status == 0, "\(r.stderr)")
        let page = try String(contentsOfFile: dir + "/plan.html", encoding: .utf8)
        #expect(Self.wellFormed(page) == nil, "\(Self.wellFormed(page) ?? "")")
        #expect(page.contains("<h1>Key account plan: Dynium SA</h1>"))
        let headings = page.matches(of: /<h2>([^<]*)<\/h2>/).map { String($0.1) }
        #expect(headings == ["Profile", "History", "Life cycle", "Profitability (the key account paradox)", "Stakeholders", "Org chart",
                             "Whitespace and cross-sell", "Risks", "Objectives, strategies and actions"])
        // The org chart drawn: a box per person, the ones we know outlined, a line to each manager.
        #expect(page.contains("<figure><svg class=\"org\""))
        #expect(page.components(separatedBy: "class=\"known\"").count - 1 == 10 && page.components(separatedBy: "class=\"unknown\"").count - 1 == 2)
        #expect(page.contains("<text x=\"16\" y=\"24\">Paul Müller (COO, economic_buyer) - known by Olga Quinn</text>"))
        // In markdown, its reporting lines in a code block.
        let md = try Binary.run(["report", "plan", "--account", "Dynium SA", "--today", Self.today, "--format", "markdown"])
        #expect(md.stdout.contains("## Org chart\n\n```\nPaul Müller (COO, economic_buyer) - known by Olga Quinn\n  Olga Weber"))
        for outside in ["http:", "https:", "src=", "href=", "url(", "<script", "<link"] { #expect(!page.contains(outside)) }
        // By id too; an account that is not there is named, with examples.
        let byID = try Binary.run(["report", "plan", "--account", "A0042", "--format", "markdown"])
        #expect(byID.status == 0 && byID.stdout.hasPrefix("# Key account plan: Ulix Holdings\n"), "\(byID.stderr)")
        let missing = try Binary.run(["report", "plan", "--account", "Nobody"])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("no account with the id or name 'Nobody'; for example: Helent Ltd"))
        let none = try Binary.run(["report", "plan"])
        #expect(none.stderr.contains("report plan needs --account ID_OR_NAME"))
    }

    @Test func reportOptionsThatCannotBeMetAreSaid() throws {
        let dir = try tempDir()
        try "id,name\nA1,Zed\nA2,Zed\nA3,Ann\n".write(toFile: dir + "/accounts.csv", atomically: true, encoding: .utf8)
        let twice = try Binary.run(["report", "plan", "--data", dir, "--account", "Zed"])
        #expect(twice.status != 0)
        #expect(twice.stderr.contains("2 accounts are named 'Zed': A1, A2; give --account ID"), "\(twice.stderr)")
        let near = try Binary.run(["report", "plan", "--account", "Dynium"])
        #expect(near.stderr.contains("no account with the id or name 'Dynium'; did you mean 'Dynium SA', 'Dyniumgal Ltd' or 'Dyniumion SA'?"), "\(near.stderr)")
        let misplaced = try Binary.run(["report", "monday", "--account", "A0042"])
        #expect(misplaced.stderr.contains("--account is for report plan; report monday covers its accounts"))
        let ext = try Binary.run(["report", "monday", "--out", dir + "/r.xyz"])
        #expect(ext.stderr.contains("no format for the extension 'xyz'; use .html, .md, .csv, .tsv, .json or .jsonl, or give --format"))
        let nowhere = try Binary.run(["report", "monday", "--out", "/nonexistent-dir/r.html"])
        #expect(nowhere.stderr.contains("cannot write --out /nonexistent-dir/r.html: No such file or directory"), "\(nowhere.stderr)")
    }

    @Test func anUnknownReportIsNamed() throws {
        let r = try Binary.run(["report", "weekly"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("unknown report 'weekly'; reports: monday, plan"))
    }

    static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    /// The page as a browser draws it: not blank, the title and its rule at the top, and
    /// the health cells' colours on it.
    @Test(.enabled(if: chromium != nil, "no chromium: apt-get install chromium (scripts/test installs it)"))
    func theHTMLReportRendersInABrowser() throws {
        let dir = try tempDir()
        let r = try Self.report(["--out", dir + "/review.html"])
        #expect(r.status == 0, "\(r.stderr)")
        let shot = dir + "/review.png"
        let browser = Process()
        browser.executableURL = URL(fileURLWithPath: try #require(Self.chromium))
        browser.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1280,1600",
                             "--user-data-dir=" + dir + "/profile", "--screenshot=" + shot, "file://" + dir + "/review.html"]
        browser.standardOutput = FileHandle.nullDevice
        browser.standardError = FileHandle.nullDevice
        try browser.run()
        browser.waitUntilExit()
        #expect(FileManager.default.fileExists(atPath: shot), "chromium wrote no screenshot")
        let check = Process()
        check.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        check.arguments = ["python3", Binary.packageRoot.appendingPathComponent("Tests/Screenshots/png_regions.py").path, shot]
        let pipe = Pipe()
        check.standardOutput = pipe
        try check.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        check.waitUntilExit()
        struct Regions: Decodable {
            var width: Int, height: Int, ink: Double, header_dark: Double, header_rule: Bool
            var health: [String: Int]
        }
        let regions = try JSONDecoder().decode(Regions.self, from: output)
        #expect(regions.width == 1280 && regions.height == 1600)
        #expect(regions.ink > 0.02, "the page is blank")
        #expect(regions.header_dark > 0.01, "no title at the top")
        #expect(regions.header_rule, "no rule under the title")
        for colour in ["red", "yellow", "green"] {
            #expect((regions.health[colour] ?? 0) > 200, "no \(colour) health cell")
        }
    }
}
