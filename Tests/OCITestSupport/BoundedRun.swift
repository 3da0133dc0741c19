import Foundation
import OCICore

/// Runs `ocitool` on hostile input under a time limit (GNU `timeout`) and
/// classifies how it ended: an exit code, a signal, or a hang.
public enum BoundedRun {
    /// How a bounded run ended.
    public struct Outcome: Sendable, CustomStringConvertible {
        public var args: [String]
        public var result: Shell.Result
        public var seconds: Double

        /// `timeout` exits 124 when it had to stop the command.
        public var hung: Bool { result.status == 124 || result.status == 137 }
        /// A signal (SIGILL from a Swift trap, SIGSEGV…) ends in 128 + signal.
        public var signalled: Bool { result.status > 128 && !hung }
        /// Lines of stderr that are not empty.
        public var stderrLines: [String] { result.stderr.split(separator: "\n").map(String.init).filter { !$0.isEmpty } }
        /// The `Error: …` lines ArgumentParser prints for a thrown error.
        public var errorLines: [String] { stderrLines.filter { $0.hasPrefix("Error:") } }

        /// Ended on its own with 0, or with a non-zero status and exactly
        /// one `Error:` line and no crash report.
        public var endedCleanly: Bool {
            guard !hung, !signalled else { return false }
            if result.status == 0 { return true }
            let crashy = stderrLines.contains { $0.contains("Fatal error") || $0.contains("Backtrac") || $0.contains("Program crashed") }
            return errorLines.count == 1 && !crashy
        }

        public var description: String {
            let how = hung ? "hung (killed after the time limit)" : signalled ? "killed by signal \(result.status - 128)" : "exit \(result.status)"
            return "ocitool \(args.joined(separator: " ")): \(how) after \(String(format: "%.1f", seconds)) s; stderr: \(result.stderr.prefix(600))"
        }
    }

    /// Runs `ocitool args…` under `timeout -k 5 seconds`, stdin from /dev/null.
    public static func ocitool(_ args: [String], seconds: Int = 10, environment: [String: String] = [:]) throws -> Outcome {
        let started = Date()
        // Through sh: GNU timeout re-raises a signal that killed the command on
        // itself, which Process would report as a bare signal number; the
        // shell turns it into the conventional 128 + signal status.
        let r = try Shell.run(["sh", "-c", "timeout -k 5 \"$@\"; exit $?", "sh", String(seconds), OCIToolBinary.path] + args,
                              environment: environment)
        return Outcome(args: args, result: r, seconds: Date().timeIntervalSince(started))
    }
}
