import Foundation
import Testing

/// The REPL as a person uses it, through a pseudo-terminal.
@Suite("REPL")
struct REPLTests {
    func start() throws -> PseudoTerminal {
        let home = try tempDir()
        let pty = try PseudoTerminal(environment: ["HOME": home, "KAM_HISTORY": home + "/history"])
        #expect(pty.expect("kam> "))
        // libedit prints the prompt before it puts the terminal in raw mode; a Ctrl-D typed
        // in that instant is taken by the kernel's line discipline, as it would be for a
        // person typing faster than any person can. Give it the moment a person would.
        usleep(300_000)
        return pty
    }

    @Test func evaluatesAndKeepsVariables() throws {
        let pty = try start()
        pty.send("let x = 20\r")
        #expect(pty.expect("kam> ", timeout: 5))
        pty.mark()
        pty.send("x * 2 + 2\r")
        #expect(pty.expect("42"))
    }

    @Test func multiLineInputUsesContinuationPrompt() throws {
        let pty = try start()
        pty.send("table([{a: 1}, {a: 2}]) |\r")
        #expect(pty.expect("...> "))
        pty.send("  where a > 1\r")
        #expect(pty.expect("│ 2 │"))
    }

    @Test func errorThenRecovery() throws {
        let pty = try start()
        pty.send("let y = 5\r")
        pty.send("1 / 0\r")
        #expect(pty.expect("error: division by zero"))
        pty.mark()
        pty.send("y + 1\r")
        #expect(pty.expect("6"))
    }

    @Test func ctrlDExitsZero() throws {
        let pty = try start()
        pty.send("\u{4}")
        #expect(pty.waitForExit() == 0)
    }

    @Test func quitCommand() throws {
        let pty = try start()
        pty.send(":quit\r")
        #expect(pty.waitForExit() == 0)
    }

    @Test func utf8EditingWithBackspace() throws {
        let pty = try start()
        // Type "Müller", delete the last four characters ("ller") and "ü", retype.
        pty.send("upper(\"Mü")
        pty.send("\u{7f}")
        pty.send("uller\")\r")
        #expect(pty.expect("MULLER"))
    }
}
