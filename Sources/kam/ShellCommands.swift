import ArgumentParser
import Foundation

/// `kam completions SHELL` prints the shell's completion script (made by ArgumentParser
/// from kam's commands and options); `kam completions install` writes it, and the man page,
/// where the shell and `man` look in the user's home.
///
///     kam completions install            # the shell of $SHELL
///     kam completions install --shell fish
///     source <(kam completions bash)     # this shell only
struct CompletionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "completions",
        abstract: "Print the completion script for bash, zsh or fish, or install it and the man page (kam completions install).",
        discussion: """
            kam completions install writes the script of your shell ($SHELL, or --shell) where it looks \
            for completions: bash ~/.local/share/bash-completion/completions/kam, zsh ~/.zfunc/_kam (add \
            fpath+=~/.zfunc before compinit in ~/.zshrc), fish ~/.config/fish/completions/kam.fish; and the \
            man page to ~/.local/share/man/man1/kam.1 (man kam). --prefix DIR writes them under DIR instead \
            of your home.
            """)

    @Argument(help: "bash, zsh or fish: print its script; install: write the script and the man page.")
    var action: String

    @Option(help: "With install: the shell (default: the one of $SHELL).")
    var shell: String?

    @Option(help: "With install: the directory to write under instead of $HOME.")
    var prefix: String?

    mutating func run() throws {
        switch action {
        case "install":
            try install()
        default:
            print(try CompletionsCommand.script(for: action), terminator: "")
        }
    }

    static func script(for name: String) throws -> String {
        guard let shell = CompletionShell(rawValue: name) else {
            throw ValidationError("unknown shell '\(name)'; kam has completions for bash, zsh and fish (or: kam completions install)")
        }
        return Kam.completionScript(for: shell)
    }

    /// Where each shell looks for a user's completions, under their home.
    static func place(_ shell: String) -> String? {
        switch shell {
        case "bash": ".local/share/bash-completion/completions/kam"
        case "zsh": ".zfunc/_kam"
        case "fish": ".config/fish/completions/kam.fish"
        default: nil
        }
    }

    func install() throws {
        let env = ProcessInfo.processInfo.environment
        guard let home = prefix ?? env["HOME"], !home.isEmpty else {
            throw ValidationError("no home directory to install into: set HOME or give --prefix DIR")
        }
        let chosen = shell ?? env["SHELL"].map { ($0 as NSString).lastPathComponent } ?? ""
        guard let relative = CompletionsCommand.place(chosen) else {
            throw ValidationError(
                chosen.isEmpty
                    ? "which shell? $SHELL is not set: give --shell bash, zsh or fish"
                    : "kam has no completions for the shell '\(chosen)': give --shell bash, zsh or fish")
        }
        let script = try CompletionsCommand.script(for: chosen)
        let man = ManCommand.page()
        for (path, text) in [(home + "/" + relative, script), (home + "/.local/share/man/man1/kam.1", man)] {
            do {
                try FileManager.default.createDirectory(
                    atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try text.write(toFile: path, atomically: true, encoding: .utf8)
            } catch {
                throw ValidationError("cannot write \(path): \(error.localizedDescription)")
            }
            print("wrote \(path)")
        }
        switch chosen {
        case "zsh": print("zsh: add 'fpath+=~/.zfunc' before 'compinit' in ~/.zshrc, then start a new shell")
        default: print("\(chosen): start a new shell to complete kam's commands and options")
        }
    }
}

/// `kam man` prints kam's man page (roff), made from the same help text as `kam --help` and
/// `kam help COMMAND`, so the two never disagree: `kam man | man -l -`.
struct ManCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "man",
        abstract: "Print kam's man page (roff): kam man | man -l - (kam completions install also installs it).")

    mutating func run() throws {
        print(ManCommand.page(), terminator: "")
    }

    /// The page: NAME, SYNOPSIS, the top-level help and one section per command, each the
    /// command's help text as ArgumentParser renders it, kept as written (`.nf`).
    static func page() -> String {
        var out = """
            .TH KAM 1 "" "kam \(kamVersion)" "User Commands"
            .SH NAME
            kam \\- a query language and REPL for key account management analytics
            .SH SYNOPSIS
            .B kam
            [\\fIOPTIONS\\fR] [\\fB\\-c\\fR \\fIQUERY\\fR]
            .br
            .B kam
            \\fICOMMAND\\fR [\\fIARGUMENTS\\fR]
            .SH DESCRIPTION

            """
        out += block(Kam.helpMessage(columns: 80))
        for command in Kam.configuration.subcommands {
            let name = command.configuration.commandName ?? "\(command)"
            out += ".SH \"KAM \(name.uppercased())\"\n"
            out += block(Kam.helpMessage(for: command, columns: 80))
        }
        out += """
            .SH FILES
            .TP
            .I $XDG_CACHE_HOME/kam/snapshots
            Snapshots of loaded datasets (default ~/.cache/kam); kam cache clear removes them.
            .SH ENVIRONMENT
            .TP
            .B KAM_TODAY
            Pin today's date (as \\-\\-today).
            .TP
            .B KAM_NO_CACHE
            Set to 1 to parse the data again and write no snapshot (as \\-\\-no\\-cache).
            .TP
            .B NO_COLOR
            Print no colours.
            .SH SEE ALSO
            The language, data and analytics references: docs/LANGUAGE.md, docs/DATA.md and
            docs/ANALYTICS.md in kam's repository.

            """
        return out
    }

    /// Help text as a preformatted roff block: backslashes escaped, and a line that starts
    /// with '.' or '\'' kept from being read as a request.
    static func block(_ text: String) -> String {
        var out = ".nf\n"
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var l = line.replacingOccurrences(of: "\\", with: "\\e")
            if l.hasPrefix(".") || l.hasPrefix("'") { l = "\\&" + l }
            out += l + "\n"
        }
        return out + ".fi\n"
    }
}
