# ocitool — make targets. Each works on a fresh Debian 12 machine as root.
SWIFT ?= swift
CONFIG ?= debug
BIN = .build/$(CONFIG)/ocitool
DEMO_ROOT ?= /tmp/ocitool-demo-store
DEMO_IMAGE ?= TestImages/podman-docker.tar
BUILD_PKGS = libarchive-dev zlib1g-dev libssl-dev libzstd-dev libisal-dev pkg-config
TEST_PKGS = skopeo umoci podman libarchive-tools zstd xz-utils bzip2 attr chromium docker-registry apache2-utils openssl

.PHONY: deps build release order test demo bench bench-quick bench-registry man completions clean fuzz

# Install only the Debian packages that are missing.
deps:
	@missing=""; for p in $(BUILD_PKGS) $(TEST_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

build: deps
	$(SWIFT) build -c $(CONFIG)

# The release binary links the Swift runtime and Foundation statically: it
# runs on a Debian 12 machine without a Swift toolchain (only the -dev
# packages' runtime libraries), starts faster and maps less (5 MB less RSS).
# It is linked by lld: relative relocations packed (DT_RELR, glibc >= 2.36:
# a 2.7 MB table becomes 22 KB), no dynamic symbol table for our own code
# (nothing loads it), and functions in the order of release/ocitool.order
# (`make order`), so the code the verbs run lies together and is mapped in
# a few megabytes instead of 12-16 MB of page-fault blocks.
ORDER = release/ocitool.order
RELEASE_FLAGS = -c release --static-swift-stdlib --product ocitool -Xswiftc -use-ld=lld \
  -Xswiftc -Xfrontend -Xswiftc -function-sections -Xcc -ffunction-sections \
  -Xlinker -z -Xlinker pack-relative-relocs -Xlinker --no-export-dynamic \
  -Xlinker --symbol-ordering-file=$(CURDIR)/$(ORDER) -Xlinker --no-warn-symbol-ordering
RELEASE_BIN = .build/release/ocitool
release: deps
	@# SwiftPM does not know the order file: link again when it changed.
	@if [ -f $(RELEASE_BIN) ] && [ $(ORDER) -nt $(RELEASE_BIN) ]; then rm -f $(RELEASE_BIN); fi
	$(SWIFT) build $(RELEASE_FLAGS)

# Regenerates release/ocitool.order: the functions the bench verbs run on the
# small profile image, under callgrind (bench/make-order.py, about 6 minutes).
order: release
	python3 bench/make-order.py $(RELEASE_BIN) $(ORDER)
	$(MAKE) release

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

# The main job on a bundled image: load it, list it, inspect it.
demo: build
	@rm -rf $(DEMO_ROOT)
	$(BIN) members $(DEMO_IMAGE)
	$(BIN) --help >/dev/null
	$(BIN) load --root $(DEMO_ROOT) $(DEMO_IMAGE)
	$(BIN) images --root $(DEMO_ROOT)
	$(BIN) history --root $(DEMO_ROOT) localhost/ocitool-test/podman-docker:v1
	$(BIN) inspect --root $(DEMO_ROOT) localhost/ocitool-test/podman-docker:v1
	$(BIN) analyze --html $(DEMO_ROOT)/analyze.html TestImages/umoci-whiteout-oci.tar

# libFuzzer harnesses (Fuzz/): built with ASan in their own build dir, each
# run for FUZZ_SECONDS on a seed corpus made at run time; fails on any crash,
# hang (an input over 10 s) or memory blow-up. See Fuzz/README.md.
FUZZ_SECONDS ?= 60
FUZZ_SEED ?=
FUZZ_RUNS ?=
FUZZ_BUILD = .build-fuzz
FUZZ_HARNESSES = fuzz-tar fuzz-json fuzz-compression fuzz-unpack
fuzz: deps
	$(SWIFT) build --package-path Fuzz --build-path $(FUZZ_BUILD) -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_SEED=$(FUZZ_SEED) FUZZ_RUNS=$(FUZZ_RUNS) bash Fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_HARNESSES)

bench: deps
	bash bench/run.sh

# Only the load rows (gzip OCI archive load, uncompressed docker load: ocitool,
# skopeo and the raw tools, same run), for checking a change.
bench-quick: deps
	bash bench/run.sh --quick

# Only the registry cases: push, no-op push and pull vs skopeo, against a private docker-registry.
bench-registry: deps
	bash bench/run.sh --only registry

# The manual page (roff, from the verbs' own help): docs/ocitool.1; read it with `man -l docs/ocitool.1`.
man: build
	$(BIN) help-man > docs/ocitool.1

# Shell completion scripts: docs/completions/{ocitool.bash,_ocitool,ocitool.fish}.
completions: build
	mkdir -p docs/completions
	$(BIN) --generate-completion-script bash > docs/completions/ocitool.bash
	$(BIN) --generate-completion-script zsh > docs/completions/_ocitool
	$(BIN) --generate-completion-script fish > docs/completions/ocitool.fish

clean:
	rm -rf .build
