import Foundation
import Glibc

/// Drives the real kam binary through a pseudo-terminal, as a person at a keyboard does.
final class PseudoTerminal {
    let master: Int32
    let pid: pid_t
    private(set) var output = ""

    init(arguments: [String] = [], environment: [String: String] = [:], columns: UInt16 = 100) throws {
        var env = ProcessInfo.processInfo.environment
        env["TERM"] = "xterm"
        env["NO_COLOR"] = "1"
        env["XDG_CACHE_HOME"] = Binary.cacheHome
        for (k, v) in environment { env[k] = v }
        let argv = [Binary.path] + arguments
        // Build the C arrays before forking: the child may only call exec.
        let cArgs = argv.map { strdup($0) } + [nil]
        let cEnv = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        var ws = winsize(ws_row: 40, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0)
        var fd: Int32 = -1
        let child = forkpty(&fd, nil, nil, &ws)
        if child == 0 {
            // The test runner may block or ignore signals; a terminal program starts clean.
            var none = sigset_t()
            sigemptyset(&none)
            sigprocmask(SIG_SETMASK, &none, nil)
            signal(SIGINT, SIG_DFL)
            if let path = cArgs[0] { execve(path, cArgs, cEnv) }
            _exit(127)
        }
        for p in cArgs { free(p) }
        for p in cEnv { free(p) }
        guard child > 0 else { throw POSIXError(.EAGAIN) }
        master = fd
        pid = child
    }

    /// The terminal's new width, as a window resize gives it.
    func resize(columns: UInt16) {
        var ws = winsize(ws_row: 40, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0)
        _ = ioctl(master, UInt(TIOCSWINSZ), &ws)
    }

    deinit {
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        close(master)
    }

    /// Types `text`; later expectations look at what is printed from here on.
    func send(_ text: String) {
        mark()
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { write(master, $0.baseAddress, $0.count) }
    }

    /// Reads until `text` appears in the output printed since the last `mark()`, or the
    /// timeout passes.
    @discardableResult
    func expect(_ text: String, timeout: Double = 10) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if sinceMark.contains(text) { return true }
            var pfd = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
            if poll(&pfd, 1, 50) > 0 {
                var buf = [UInt8](repeating: 0, count: 4096)
                let n = read(master, &buf, buf.count)
                if n <= 0 { break }
                output += String(decoding: buf[0..<n], as: UTF8.self)
            }
        }
        return sinceMark.contains(text)
    }

    /// Everything printed after the last call to `mark()`.
    private var markIndex: String.Index?
    func mark() { markIndex = output.endIndex }
    var sinceMark: String { String(output[(markIndex ?? output.startIndex)...]) }

    /// Waits for the process to end and returns its exit status.
    func waitForExit(timeout: Double = 10) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            var status: Int32 = 0
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { return (status & 0x7f) == 0 ? (status >> 8) & 0xff : -1 }
            _ = expect("\u{0}", timeout: 0.05)
        }
        return nil
    }
}
