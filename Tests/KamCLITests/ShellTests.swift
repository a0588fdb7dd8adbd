import Foundation
import Testing

/// Shell completion and the man page, as a user installs and uses them: the scripts the
/// shells load, `kam completions install` into a home, bash completing a command for real,
/// and a page `man` renders with every command in it.
@Suite("shell completion and man page")
struct ShellTests {
    static func tool(_ name: String) -> String? {
        for dir in ["/usr/bin", "/bin", "/usr/local/bin"] where FileManager.default.isExecutableFile(atPath: dir + "/" + name) {
            return dir + "/" + name
        }
        return nil
    }

    @Test func eachShellGetsItsScript() throws {
        let bash = try Binary.run(["completions", "bash"])
        #expect(bash.status == 0)
        #expect(bash.stdout.contains("complete -o filenames -F _kam kam"))
        let zsh = try Binary.run(["completions", "zsh"])
        #expect(zsh.status == 0 && zsh.stdout.hasPrefix("#compdef kam"))
        let fish = try Binary.run(["completions", "fish"])
        #expect(fish.status == 0 && fish.stdout.contains("complete -c 'kam'"))
        // Every command is in each script.
        for command in ["run", "check", "sql", "demo", "cache", "report", "completions", "man"] {
            #expect(bash.stdout.contains(command) && zsh.stdout.contains(command) && fish.stdout.contains(command), "\(command)")
        }
    }

    @Test func unknownShellsAndMissingHomesAreUsageErrors() throws {
        let r = try Binary.run(["completions", "tcsh"])
        #expect(r.status == 64 || r.status == 2)
        #expect(r.stderr.contains("unknown shell 'tcsh'; kam has completions for bash, zsh and fish (or: kam completions install)"))
        let home = NSTemporaryDirectory() + "kam-shell-\(getpid())-none"
        let none = try Binary.run(["completions", "install"], env: ["HOME": home, "SHELL": "/bin/tcsh"])
        #expect(none.status != 0)
        #expect(none.stderr.contains("kam has no completions for the shell 'tcsh': give --shell bash, zsh or fish"))
        #expect(!FileManager.default.fileExists(atPath: home))
    }

    /// Installed into a fresh home, bash loads the script and completes `kam re` to `report`
    /// (the completion function called as bash's completion would call it).
    @Test func installedBashCompletionCompletes() throws {
        let home = NSTemporaryDirectory() + "kam-shell-\(getpid())-bash"
        defer { try? FileManager.default.removeItem(atPath: home) }
        let r = try Binary.run(["completions", "install"], env: ["HOME": home, "SHELL": "/bin/bash"])
        #expect(r.status == 0, "\(r.stderr)")
        let script = home + "/.local/share/bash-completion/completions/kam"
        let page = home + "/.local/share/man/man1/kam.1"
        #expect(r.stdout.contains("wrote \(script)") && r.stdout.contains("wrote \(page)"))
        #expect(FileManager.default.fileExists(atPath: script) && FileManager.default.fileExists(atPath: page))
        guard let bash = ShellTests.tool("bash") else { return }
        // The function the script registers, run for the words `kam re`.
        let probe = """
            source '\(script)'
            f=$(complete -p kam | sed -E 's/.*-F ([^ ]+).*/\\1/')
            COMP_WORDS=(kam re); COMP_CWORD=1; COMP_LINE='kam re'; COMP_POINT=${#COMP_LINE}
            "$f" kam re kam
            printf '%s\\n' "${COMPREPLY[@]}"
            """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: bash)
        p.arguments = ["--norc", "-c", probe]
        var env = ProcessInfo.processInfo.environment
        env["PATH"] = URL(fileURLWithPath: Binary.path).deletingLastPathComponent().path + ":" + (env["PATH"] ?? "/usr/bin:/bin")
        p.environment = env
        let out = Pipe()
        p.standardOutput = out
        p.standardError = Pipe()
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let words = String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
        #expect(words.contains("report"), "\(words)")
        #expect(!words.contains("run"), "\(words)")
    }

    @Test func zshAndFishInstallWhereTheyLook() throws {
        let home = NSTemporaryDirectory() + "kam-shell-\(getpid())-zf"
        defer { try? FileManager.default.removeItem(atPath: home) }
        let zsh = try Binary.run(["completions", "install", "--shell", "zsh"], env: ["HOME": home])
        #expect(zsh.status == 0)
        #expect(zsh.stdout.contains("zsh: add 'fpath+=~/.zfunc' before 'compinit' in ~/.zshrc, then start a new shell"))
        #expect(FileManager.default.fileExists(atPath: home + "/.zfunc/_kam"))
        let prefix = home + "/elsewhere"
        let fish = try Binary.run(["completions", "install", "--shell", "fish", "--prefix", prefix], env: ["HOME": home])
        #expect(fish.status == 0)
        #expect(FileManager.default.fileExists(atPath: prefix + "/.config/fish/completions/kam.fish"))
    }

    /// The man page holds the help of kam and of every command, and `man` renders it.
    @Test func manPageHasEveryCommandAndRenders() throws {
        let r = try Binary.run(["man"])
        #expect(r.status == 0)
        #expect(r.stdout.hasPrefix(".TH KAM 1"))
        for section in ["NAME", "SYNOPSIS", "DESCRIPTION", "\"KAM RUN\"", "\"KAM CHECK\"", "\"KAM SQL\"", "\"KAM DEMO\"",
                        "\"KAM CACHE\"", "\"KAM REPORT\"", "\"KAM COMPLETIONS\"", "\"KAM MAN\"", "ENVIRONMENT"] {
            #expect(r.stdout.contains(".SH \(section)\n"), "\(section)")
        }
        let help = try Binary.run(["help", "check"])
        // The command's help, line for line (roff's escapes aside).
        for line in help.stdout.split(separator: "\n") where !line.contains("\\") {
            #expect(r.stdout.contains(line), "\(line)")
        }
        guard let man = ShellTests.tool("man") else { return }
        let page = NSTemporaryDirectory() + "kam-\(getpid()).1"
        try r.stdout.write(toFile: page, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: page) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: man)
        p.arguments = ["-l", page]
        p.environment = ["MANPAGER": "cat", "PAGER": "cat", "MANWIDTH": "100", "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        if p.terminationStatus != 0 && text.isEmpty { return }  // man present but no formatter (groff) here
        #expect(text.contains("KAM REPORT"))
        #expect(text.contains("Check scripts without running them"))
    }
}
