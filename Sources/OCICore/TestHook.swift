import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A test hook, off unless the environment variable `OCITOOL_TEST_HOOK` is
/// set: it lets crash and race tests stop, slow down or kill an `ocitool`
/// process at a named point, so they are deterministic instead of
/// sleep-and-hope. Not an interface for users.
///
/// `OCITOOL_TEST_HOOK="RULE[;RULE…]"`, each rule `POINT[#N]:ACTION[,ACTION…]`;
/// when the process reaches POINT (with `#N`: only the N-th time), the
/// actions run in order:
/// - `sleep-ms=MS`: pause (widens a window for random-kill tests);
/// - `touch=PATH`: create PATH (tells the test the point was reached);
/// - `wait-for=PATH`: wait until PATH exists (the test lets the process go
///   on); after 10 minutes the process exits with status 99;
/// - `kill`: SIGKILL this process (a crash at exactly this point).
///
/// Points:
/// - `index-lock`: a store transaction is about to wait for the index lock;
/// - `index-locked`: it holds the lock, before reading `index.json`;
/// - `before-index-rename`: the new `index.json` is in its temporary file
///   (written and synced), not yet renamed over the old one;
/// - `index-renamed`: renamed, the lock still held;
/// - `tag-resolved`: `tag` resolved its source (under the lock);
/// - `store-staged`: a store write staged every blob in `ingest/`, before
///   the transaction that publishes and names them;
/// - `lease-lock`: an operation is about to wait for its lease (the ingest
///   lock, shared);
/// - `prune-lock`: `prune` is about to wait for the exclusive ingest lock;
/// - `prune-locked`: it holds it;
/// - `prune-removed`: `prune` removed one blob or staging file (use `#N`);
/// - `output-before-rename`: an `-o` file is complete and synced in its
///   temporary file, not yet renamed to the name given.
package enum TestHook {
    /// Runs the actions the environment asks for at `point` (nothing when
    /// `OCITOOL_TEST_HOOK` is unset).
    package static func point(_ point: String) {
        guard let hooks = state else { return }
        hooks.reached(point)
    }

    private static let state: TestHookState? = {
        guard let spec = ProcessInfo.processInfo.environment["OCITOOL_TEST_HOOK"], !spec.isEmpty else { return nil }
        return TestHookState(spec: spec)
    }()
}

private final class TestHookState: @unchecked Sendable {
    enum Action {
        case sleep(UInt32)
        case touch(String)
        case waitFor(String)
        case kill
    }

    struct Rule {
        var point: String
        var occurrence: Int?
        var actions: [Action]
    }

    private let rules: [Rule]
    private let lock = NSLock()
    private var counts: [String: Int] = [:]

    init(spec: String) {
        var rules: [Rule] = []
        for text in spec.split(separator: ";") {
            guard let colon = text.firstIndex(of: ":") else { continue }
            var point = String(text[..<colon])
            var occurrence: Int?
            if let hash = point.firstIndex(of: "#") {
                occurrence = Int(point[point.index(after: hash)...])
                point = String(point[..<hash])
            }
            let actions: [Action] = text[text.index(after: colon)...].split(separator: ",").compactMap { a in
                let parts = a.split(separator: "=", maxSplits: 1).map(String.init)
                switch (parts.first ?? "", parts.count > 1 ? parts[1] : "") {
                case ("sleep-ms", let v): return UInt32(v).map { .sleep($0) }
                case ("touch", let p) where !p.isEmpty: return .touch(p)
                case ("wait-for", let p) where !p.isEmpty: return .waitFor(p)
                case ("kill", _): return .kill
                default: return nil
                }
            }
            rules.append(Rule(point: point, occurrence: occurrence, actions: actions))
        }
        self.rules = rules
    }

    func reached(_ point: String) {
        let n: Int = lock.withLock {
            counts[point, default: 0] += 1
            return counts[point] ?? 0
        }
        for rule in rules where rule.point == point && (rule.occurrence == nil || rule.occurrence == n) {
            for action in rule.actions { run(action) }
        }
    }

    private func run(_ action: Action) {
        switch action {
        case let .sleep(ms):
            usleep(ms * 1000)
        case let .touch(path):
            let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
            if fd >= 0 { close(fd) }
        case let .waitFor(path):
            for _ in 0..<600_000 {
                if access(path, F_OK) == 0 { return }
                usleep(1000)
            }
            let message = Array("ocitool: test hook: gave up waiting for \(path)\n".utf8)
            _ = message.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
            _exit(99)
        case .kill:
            Glibc.kill(getpid(), SIGKILL)
        }
    }
}
