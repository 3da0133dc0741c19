import ArgumentParser
import Foundation

/// `ocitool help-man` (hidden): the manual page, in roff (man macros), made
/// from the verbs' own help so it never disagrees with `--help`.
/// `make man` writes it to `docs/ocitool.1`.
struct HelpManCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "help-man",
        abstract: "Print ocitool's manual page (roff) on stdout.",
        shouldDisplay: false)

    func run() throws { Console.outRaw(Array(ManPage.text().utf8)) }
}

enum ManPage {
    static let environment: [(String, String)] = [
        ("OCITOOL_ROOT", "The store directory when --root is not given (default: $XDG_DATA_HOME/ocitool, else ~/.local/share/ocitool)."),
        ("SOURCE_DATE_EPOCH", "Unix time used for the member mtimes of written archives and for the created time of images made by commit, config and squash, so the same inputs give the same bytes."),
        ("TMPDIR", "Where spools of archives read without loading and of re-encoded layers go (default /tmp); --tmpdir overrides it."),
        ("NO_COLOR", "Honoured trivially: ocitool writes no colour codes anywhere (progress bars use cursor movement only), so there is nothing to turn off."),
        ("REGISTRY_AUTH_FILE", "Registry credentials file read by pull, push, copy and login (default: the containers auth.json, else ~/.docker/config.json); --authfile overrides it."),
        ("TERM", "With TERM=dumb (or stderr not a terminal) --progress auto prints no bars."),
    ]

    static let examples: [String] = [
        "ocitool load -i app.tar",
        "ocitool images --format '{{.Repository}}:{{.Tag}}\\t{{.Size}}'",
        "ocitool --root /srv/images image ls --filter dangling=true -q",
        "ocitool inspect -f '{{json .Config}}' app:1",
        "ocitool history -H=false --no-trunc app:1",
        "ocitool image prune -a -f --filter until=720h",
        "ocitool save --compress zstd --format oci -o app-oci.tar app:1",
        "source <(ocitool --generate-completion-script bash)",
    ]

    static func text() -> String {
        var out = """
        .TH OCITOOL 1 "" "ocitool \(VersionInfo.version)" "User Commands"
        .SH NAME
        ocitool \\- \(escape(OCIToolCommand.configuration.abstract))
        .SH SYNOPSIS
        .B ocitool
        [\\fB\\-\\-root\\fR \\fIDIR\\fR]
        \\fIVERB\\fR [\\fIOPTIONS\\fR] [\\fIARGS\\fR]
        .SH DESCRIPTION
        \(escape(OCIToolCommand.configuration.discussion.components(separatedBy: "\n\n").first ?? ""))
        .SH COMMANDS

        """
        for command in OCIToolCommand.configuration.subcommands where command.configuration.shouldDisplay {
            append(command, path: [], to: &out)
        }
        out += ".SH EXAMPLES\n"
        for e in examples { out += ".PP\n.nf\n\\f(CW\(escape(e))\\fR\n.fi\n" }
        out += ".SH ENVIRONMENT\n"
        for (name, text) in environment { out += ".TP\n.B \(name)\n\(escape(text))\n" }
        out += """
        .SH FILES
        .TP
        .I ROOT/index.json, ROOT/blobs/sha256/
        The store: an OCI image layout (skopeo oci:ROOT:NAME and umoci read it).
        .TP
        .I ROOT/.ocitool-layer-sizes.json
        Cached uncompressed layer sizes (the SIZE column).
        .SH EXIT STATUS
        0 on success, 1 on a runtime error, 64 on a usage error (including a bad --format template), 130 after an interrupt.
        .SH SEE ALSO
        .BR docker (1),
        .BR skopeo (1),
        .BR umoci (1)

        """
        return out
    }

    private static func append(_ command: ParsableCommand.Type, path: [String], to out: inout String) {
        let name = command.configuration.commandName ?? "\(command)"
        let full = path + [name]
        out += ".SS \(escape(full.joined(separator: " ")))\n"
        out += ".nf\n"
        let help = OCIToolCommand.helpMessage(for: command, columns: 78)
        for line in help.split(separator: "\n", omittingEmptySubsequences: false) { out += escapeLine(String(line)) + "\n" }
        out += ".fi\n"
    }

    /// roff text: backslashes as `\e`, hyphens as `\-`, non-ASCII characters as `\[uXXXX]`.
    static func escape(_ s: String) -> String {
        var out = ""
        for c in s.unicodeScalars {
            switch c {
            case "\\": out += "\\e"
            case "-": out += "\\-"
            case _ where c.value > 0x7E:
                let hex = String(c.value, radix: 16, uppercase: true)
                out += "\\[u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex + "]"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    static func escapeLine(_ s: String) -> String {
        let e = escape(s)
        return e.hasPrefix(".") || e.hasPrefix("'") ? "\\&" + e : e
    }
}
