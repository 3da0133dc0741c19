import ArgumentParser
import OCIStore

/// Options every store-using verb shares.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: "Store directory (default: $OCITOOL_ROOT, $XDG_DATA_HOME/ocitool, ~/.local/share/ocitool).")
    var root: String?

    var store: ImageStore { ImageStore(root: StoreLocation.resolve(root)) }
}
