import ArgumentParser
import Foundation
import OCICore
#if canImport(Glibc)
import Glibc
#endif

/// A mistake in how a verb was used, found while it runs (a bad `--format`
/// template, a terminal where an archive stream was expected): one line,
/// exit status 64, no usage text.
struct UsageError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

/// The one place that turns errors into messages and exit statuses, for
/// every verb (after `CommandLineNormalizer` rewrote docker-shaped command
/// lines): command-line mistakes found while parsing print the
/// argument parser's message and usage and exit 64; `UsageError` and
/// `ValidationError` thrown while running exit 64 with one line; every other
/// error prints `Error: <one line>` and exits 1; an interrupt exits 128 +
/// the signal (130 for SIGINT) after `Cleanup` removed temporary files.
public enum OCIToolMain {
    /// Exit statuses.
    public enum Status {
        public static let runtime: Int32 = 1
        public static let usage: Int32 = 64
        public static let interrupted: Int32 = 130
    }

    /// Parses the command line, runs the verb, exits.
    public static func main(_ arguments: [String]? = nil) -> Never {
        Cleanup.installSignalHandlers()
        AllocationPolicy.mapLargeBuffers()
        let threadsAtStart = ThreadCount.current()
        var command: ParsableCommand
        let normalized: [String]
        do {
            normalized = try CommandLineNormalizer.normalize(arguments ?? Array(CommandLine.arguments.dropFirst()))
        } catch {
            exit(render(error))
        }
        do {
            command = try OCIToolCommand.parseAsRoot(normalized)
        } catch {
            let code = OCIToolCommand.exitCode(for: error).rawValue
            let message = OCIToolCommand.fullMessage(for: error)
            if !message.isEmpty {
                if code == 0 { Console.out(message) } else { Console.err(message) }
            }
            exit(code == 0 ? 0 : (code == EXIT_FAILURE ? Status.usage : code))
        }
        var status: Int32 = 0
        do {
            try command.run()
        } catch {
            // An interrupt removes the files the operation works on: what it
            // then fails on is not the cause; exit as the interrupt does.
            if let sig = Cleanup.interruptingSignal { Cleanup.exitInterrupted(sig) }
            // `help` and `--help` reach here as the parser's own error with status 0.
            if OCIToolCommand.exitCode(for: error).isSuccess {
                let message = OCIToolCommand.fullMessage(for: error)
                if !message.isEmpty { Console.out(message) }
            } else {
                status = render(error)
            }
        }
        // Test hook: every thread an operation started has ended by now.
        if ProcessInfo.processInfo.environment["OCITOOL_DEBUG_THREADS"] != nil {
            Console.err("ocitool: threads at start \(threadsAtStart), at exit \(ThreadCount.current())")
        }
        if let sig = Cleanup.interruptingSignal { Cleanup.exitInterrupted(sig) }
        exit(status)
    }

    /// Prints `error` (one line on stderr) and returns the exit status.
    static func render(_ error: Error) -> Int32 {
        switch error {
        case let e as ExitCode:
            return e.rawValue
        case let e as UsageError:
            Console.err("Error: \(e.description)")
            return Status.usage
        case let e as ValidationError:
            Console.err("Error: \(e.message)")
            return Status.usage
        case is CleanExit:
            return 0
        default:
            Console.err("Error: \(oneLine(error))")
            return Status.runtime
        }
    }

    /// The error's description on one line.
    static func oneLine(_ error: Error) -> String {
        let text = "\(error)"
        return text.split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}

/// The number of threads of this process (Linux: `/proc/self/task`).
enum ThreadCount {
    static func current() -> Int {
        (try? FS.listDirectory("/proc/self/task").count) ?? 0
    }
}
