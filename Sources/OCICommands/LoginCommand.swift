import ArgumentParser
import Foundation
import OCIRegistry
#if canImport(Glibc)
import Glibc
#endif

/// `ocitool login`: checks credentials against the registry, then saves them
/// in `~/.docker/config.json` (or `$REGISTRY_AUTH_FILE`, `--authfile`).
struct LoginCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login",
        abstract: "Log in to a registry: verify the credentials, then save them (~/.docker/config.json or $REGISTRY_AUTH_FILE).",
        discussion: """
        Examples:
          echo "$TOKEN" | ocitool login -u alice --password-stdin quay.io
          ocitool login --ca-file ca.crt localhost:5000
        """)

    @Option(name: .shortAndLong, help: "User name (asked on the terminal when omitted).")
    var username: String?

    @Option(name: .shortAndLong, help: "Password (visible to other users of this machine; prefer --password-stdin).")
    var password: String?

    @Flag(name: .customLong("password-stdin"), help: "Read the password from stdin.")
    var passwordStdin = false

    @OptionGroup var registryFlags: RegistryFlags

    @Argument(help: "Registry host, e.g. localhost:5000 or quay.io.")
    var host: String = "docker.io"

    func validate() throws {
        if password != nil && passwordStdin { throw ValidationError("--password and --password-stdin cannot be used together") }
        if passwordStdin && username == nil { throw ValidationError("--password-stdin needs --username") }
        if registryFlags.creds != nil && (username != nil || password != nil || passwordStdin) {
            throw ValidationError("give either --creds or --username with a password, not both")
        }
    }

    func run() throws {
        let registry = try RegistryHost(host)
        var options = try registryFlags.options()
        options.retries = 2
        if let given = options.credentials {
            try verifyAndSave(given, registry, options)
            return
        }
        let user = try username ?? Prompt.line("Username: ")
        guard !user.isEmpty else { throw ValidationError("the user name is empty") }
        let secret: String
        if passwordStdin {
            secret = try Prompt.stdinSecret()
        } else if let password {
            Console.err("WARNING! Using --password on the command line is insecure; use --password-stdin.")
            secret = password
        } else {
            secret = try Prompt.hidden("Password: ")
        }
        guard !secret.isEmpty else { throw ValidationError("the password is empty") }
        try verifyAndSave(Credentials(username: user, password: secret), registry, options)
    }

    /// `GET /v2/` with the credentials, then saves them.
    private func verifyAndSave(_ credentials: Credentials, _ registry: RegistryHost, _ base: RegistryOptions) throws {
        var options = base
        options.credentials = credentials
        let client = try RegistryClient(registry: registry.name, options: options)
        defer { client.shutdown() }
        try client.checkAccess()
        let location = try CredentialStore.save(credentials, host: registry.name, authFile: registryFlags.authFile)
        Console.err("Credentials saved to \(location)")
        Console.out("Login Succeeded")
    }
}

/// `ocitool logout`: removes saved credentials for a registry.
struct LogoutCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logout",
        abstract: "Remove the saved credentials for a registry.",
        discussion: """
        Examples:
          ocitool logout registry.example.com
          ocitool logout --authfile ./auth.json localhost:5000
        """)

    @Option(name: .customLong("authfile"), help: "Auth file to change (default: $REGISTRY_AUTH_FILE, else ~/.docker/config.json).")
    var authFile: String?

    @Argument(help: "Registry host.")
    var host: String = "docker.io"

    func run() throws {
        let registry = try RegistryHost(host)
        let removed = try CredentialStore.remove(host: registry.name, authFile: authFile)
        guard !removed.isEmpty else { throw LogoutError(description: "not logged in to \(registry.name)") }
        Console.out("Removed login credentials for \(registry.name)")
    }
}

struct LogoutError: Error, CustomStringConvertible {
    var description: String
}

/// Reading a user name and a password without echoing the password.
enum Prompt {
    struct Failure: Error, CustomStringConvertible { var description: String }

    /// A visible line from the terminal.
    static func line(_ prompt: String) throws -> String {
        guard Console.stdinIsTerminal else {
            throw Failure(description: "no user name given and stdin is not a terminal; use --username")
        }
        FileHandle.standardError.write(Data(prompt.utf8))
        guard let line = readLine(strippingNewline: true) else { throw Failure(description: "no user name given") }
        return line.trimmingCharacters(in: .whitespaces)
    }

    /// The password from stdin: everything up to EOF, less one trailing newline (at most 64 KiB).
    static func stdinSecret() throws -> String {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
            if n < 0 { if errno == EINTR { continue }; throw Failure(description: "cannot read the password from stdin") }
            if n == 0 { break }
            bytes += buffer[0..<n]
            guard bytes.count <= 64 << 10 else { throw Failure(description: "the password on stdin is longer than 64 KiB") }
        }
        while let last = bytes.last, last == 0x0a || last == 0x0d { bytes.removeLast() }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A line read from /dev/tty with echo off.
    static func hidden(_ prompt: String) throws -> String {
        let fd = open("/dev/tty", O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(description: "no terminal to ask for the password; use --password-stdin") }
        defer { close(fd) }
        var old = termios()
        guard tcgetattr(fd, &old) == 0 else { throw Failure(description: "cannot set up the terminal; use --password-stdin") }
        var quiet = old
        quiet.c_lflag &= ~tcflag_t(ECHO)
        _ = prompt.withCString { write(fd, $0, strlen($0)) }
        guard tcsetattr(fd, TCSAFLUSH, &quiet) == 0 else { throw Failure(description: "cannot turn off echo; use --password-stdin") }
        defer {
            _ = tcsetattr(fd, TCSAFLUSH, &old)
            _ = write(fd, "\n", 1)
        }
        var bytes: [UInt8] = []
        var c: UInt8 = 0
        while read(fd, &c, 1) == 1 {
            if c == 0x0a || c == 0x0d { break }
            bytes.append(c)
            if bytes.count > 64 << 10 { throw Failure(description: "password too long") }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
