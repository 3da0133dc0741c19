import Foundation
import OCICore

/// The file-system changes commit tests make to the root file system of
/// the TestImages `podman-*` images, once in a podman container (the
/// oracle, committed with `podman commit`) and once in a copy given to
/// `ocitool commit --rootfs` (or through an overlay mount for `--upper`).
public enum CommitScenario {
    /// A shell script taking the root directory as `$1`.
    public static let script = #"""
    set -eu
    d="$1"
    echo new > "$d/etc/new.txt"
    python3 -c 'import os, sys; os.setxattr(sys.argv[1], "user.note", b"hi")' "$d/etc/new.txt"
    ln "$d/etc/new.txt" "$d/etc/new-hardlink.txt"
    echo modified >> "$d/etc/hello.txt"
    echo again >> "$d/data/a.txt"
    rm "$d/etc/private.key"
    rm -rf "$d/data/long"
    rm -rf "$d/bin"
    printf 'was a directory\n' > "$d/bin"
    ln -s ../etc/new.txt "$d/data/new-symlink"
    chmod 0600 "$d/etc/conf.d/b.conf"
    rm -rf "$d/café"/*
    echo fresh > "$d/café/fresh.txt"
    mkdir -p "$d/opt/app"
    echo run > "$d/opt/app/run"
    chmod 0750 "$d/opt/app/run"
    mkfifo "$d/opt/fifo"
    chown -R 123:456 "$d/opt"
    chown -h 1000:1000 "$d/data/hello-symlink"
    """#

    /// Runs the script on `root`.
    /// - Throws: `CoreError.malformed` with the script's stderr if a step fails.
    public static func apply(to root: String) throws {
        let r = try Shell.run(["sh", "-c", script, "sh", root])
        guard r.status == 0 else { throw CoreError.malformed(context: "commit scenario on \(root)", message: r.stderr) }
    }

    /// `cp -a SOURCE DEST` (owners, modes, times, xattrs and hard links kept).
    public static func copyTree(_ source: String, to dest: String) throws {
        let r = try Shell.run(["cp", "-a", source, dest])
        guard r.status == 0 else { throw CoreError.malformed(context: "cp -a \(source) \(dest)", message: r.stderr) }
    }
}
