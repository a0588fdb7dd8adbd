import Foundation
import KamData
import KamSyntax

/// The outline a script gives its results as a report: `# report: TITLE` (the page's
/// title), `# section: TITLE` before a statement (a heading above its result, and above
/// the results after it until the next section), `# subtitle: TEXT`.
///
///     # report: Monday account review
///     # section: Accounts at risk
///     accounts | health | where health != "green"
public struct ReportOutline {
    public var title: String?
    public var subtitleText: String?
    public var sections: [(line: Int, title: String)] = []

    public init(_ text: String) {
        for (k, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            guard line.hasPrefix("#") else { continue }
            let body = line.dropFirst().trimmingCharacters(in: .whitespaces)
            for (key, set) in [("section:", 0), ("report:", 1), ("subtitle:", 2)] where body.hasPrefix(key) {
                let value = body.dropFirst(key.count).trimmingCharacters(in: .whitespaces)
                guard !value.isEmpty else { continue }
                switch set {
                case 0: sections.append((k + 1, value))
                case 1: title = value
                default: subtitleText = value
                }
            }
        }
    }

    /// The line under the title: the script's own, else the day it describes.
    public func subtitle(today: Int32, always: Bool = false) -> String? {
        subtitleText ?? (title == nil && !always ? nil : "as of " + KamSyntax.Calendar.format(today))
    }
}
