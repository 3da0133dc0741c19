import Foundation
import OCICore

/// Answers from peer tools, used as the oracle in tests.
public enum PeerTools {
    /// The error thrown when a peer tool fails.
    public struct Failure: Error, CustomStringConvertible {
        /// The command line and what it printed.
        public var description: String
    }

    /// The SHA-256 of the file at `path` as `sha256sum` computes it.
    /// - Throws: `Failure` if `sha256sum` fails or prints something unexpected.
    public static func sha256sum(path: String) throws -> Digest {
        try parseSHA256Sum(Shell.run(["sha256sum", "--", path]), what: path)
    }

    /// The SHA-256 of `bytes` as `sha256sum` computes it (bytes fed on stdin).
    public static func sha256sum(bytes: [UInt8]) throws -> Digest {
        try parseSHA256Sum(Shell.run(["sha256sum"], stdin: bytes), what: "stdin")
    }

    private static func parseSHA256Sum(_ r: Shell.Result, what: String) throws -> Digest {
        let text = r.stdoutText
        guard r.status == 0, text.utf8.count >= 64 else {
            throw Failure(description: "sha256sum \(what): status \(r.status): \(r.stderr)")
        }
        return try Digest(sha256Hex: String(text.prefix(64)))
    }

    /// SHA-256 digests of regular members of a tar file, as extracted by
    /// GNU tar (`tar -xf FILE --to-command=sha256sum`, which equals
    /// `tar -xOf FILE MEMBER | sha256sum` for each occurrence). Compressed
    /// archives are decompressed by tar itself.
    ///
    /// - Parameters:
    ///   - archive: the tar file.
    ///   - members: names to extract, as stored (GNU tar strips a leading `/`).
    /// - Returns: for each member name as GNU tar reports it, the digests of
    ///   every occurrence, in archive order.
    /// - Throws: `Failure` if tar exits with an error (e.g. a name is not found).
    public static func gnuTarMemberDigests(archive: String, members: [String]) throws -> [String: [Digest]] {
        guard !members.isEmpty else { return [:] }
        let script = #"printf '%s %s\0' "$(sha256sum | cut -c1-64)" "$TAR_FILENAME""#
        // GNU tar runs the command with /bin/sh -c, once per regular member.
        let r = try Shell.run(["tar", "--no-wildcards", "--no-unquote", "-xf", archive,
                               "--to-command=" + script, "--"] + members)
        guard r.status == 0 else {
            throw Failure(description: "tar -xf \(archive) --to-command=sha256sum: status \(r.status): \(r.stderr)")
        }
        var result: [String: [Digest]] = [:]
        for record in r.stdout.split(separator: 0, omittingEmptySubsequences: true) {
            let line = String(decoding: record, as: UTF8.self)
            guard line.utf8.count > 65 else { throw Failure(description: "tar --to-command printed \(line)") }
            let digest = try Digest(sha256Hex: String(line.prefix(64)))
            result[String(line.dropFirst(65)), default: []].append(digest)
        }
        return result
    }

    /// Member names listed by `tool -tf archive` (`tool` is `tar` for GNU tar
    /// or `bsdtar`), one per line as printed, with literal quoting.
    /// - Throws: `Failure` if the tool exits with an error.
    public static func listNames(_ tool: String, archive: String) throws -> [String] {
        var args = [tool, "-tf", archive]
        if tool == "tar" { args.insert("--quoting-style=literal", at: 1) }
        let r = try Shell.run(args)
        guard r.status == 0 else { throw Failure(description: "\(tool) -tf \(archive): status \(r.status): \(r.stderr)") }
        return r.stdoutText.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
    }

    /// The verbose listing (`tool -tvf archive`), one line per member.
    /// - Throws: `Failure` if the tool exits with an error.
    public static func listVerbose(_ tool: String, archive: String) throws -> [String] {
        var args = [tool, "-tvf", archive]
        if tool == "tar" { args.insert(contentsOf: ["--quoting-style=literal", "--numeric-owner"], at: 1) }
        let r = try Shell.run(args)
        guard r.status == 0 else { throw Failure(description: "\(tool) -tvf \(archive): status \(r.status): \(r.stderr)") }
        return r.stdoutText.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
    }
}
