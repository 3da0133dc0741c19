#!/usr/bin/env bash
# Builds the small image-archive fixtures in TestImages/ with real peer tools
# (podman, skopeo, umoci, GNU tar), verifies each with skopeo, and writes
# README.md, INDEX.tsv, VERSIONS and expected/*.rootfs.txt next to itself.
#
# Tests read the committed outputs; they never run this script.
# Needs root (podman with vfs storage, umoci unpack), no network.
# Re-runnable: removes its temp state ($TI_WORK) and the outputs it owns.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=$HERE
WORK=${TI_WORK:-/tmp/ocitool-testimages}
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1700000000}
export TZ=UTC LC_ALL=C.UTF-8
SDE=$SOURCE_DATE_EPOCH
SDE_ISO=$(date -u -d "@$SDE" +%Y-%m-%dT%H:%M:%SZ)
NS=localhost/ocitool-test
AUTHOR="ocitool tests <tests@example.invalid>"
DESCRIBE="python3 $HERE/describe-archives.py"

PODMAN_OPTS="--root $WORK/podman/root --runroot $WORK/podman/run --storage-driver vfs"
podman_() { podman $PODMAN_OPTS "$@"; }
CS="containers-storage:[vfs@$WORK/podman/root+$WORK/podman/run]"

for tool in podman skopeo umoci tar zstd gzip jq sha256sum python3; do
  command -v "$tool" >/dev/null || { echo "missing tool: $tool" >&2; exit 1; }
done

log() { printf '\n== %s\n' "$*" >&2; }

# ---------------------------------------------------------------- clean state
if [ -d "$WORK/podman" ]; then
  podman_ rm -af >/dev/null 2>&1 || true
fi
rm -rf "$WORK"
mkdir -p "$WORK"
rm -f "$OUT"/*.tar "$OUT"/*.tar.gz "$OUT"/*.tar.zst "$OUT/INDEX.tsv" "$OUT/VERSIONS"
rm -rf "$OUT/expected"
mkdir -p "$OUT/expected"
META=$WORK/meta.tsv
: > "$META"

# ---------------------------------------------------------------- versions
V_PODMAN=$(podman --version | awk '{print $3}')
V_SKOPEO=$(skopeo --version | awk '{print $3}')
V_UMOCI=$(umoci --version | awk '{print $3}')
V_TAR=$(tar --version | head -1 | awk '{print $4}')
V_ZSTD=$(zstd --version | sed -n 's/.* v\([0-9.]*\),.*/\1/p')
V_GZIP=$(gzip --version | head -1 | awk '{print $2}')
{
  echo "podman $V_PODMAN"
  echo "skopeo $V_SKOPEO"
  echo "umoci $V_UMOCI"
  echo "GNU tar $V_TAR"
  echo "zstd $V_ZSTD"
  echo "gzip $V_GZIP"
  if command -v dpkg-query >/dev/null; then
    dpkg-query -W -f='deb ${Package} ${Version}\n' podman skopeo umoci tar zstd gzip 2>/dev/null || true
  fi
  echo "SOURCE_DATE_EPOCH $SDE"
} > "$OUT/VERSIONS"
log "tool versions"
cat "$OUT/VERSIONS" >&2

# record FILE KIND WRITER COMMAND VERIFIED NOTES  (one row of meta.tsv)
record() { printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >> "$META"; }
# the command as shown in README: no temp paths, no podman storage flags
show() {
  local s="$*"
  s=${s//"$PODMAN_OPTS "/}
  s=${s//"$CS"/containers-storage:}
  s=${s//"$WORK/"/}
  s=${s//"$OUT/"/}
  printf '%s' "$s"
}

# deterministic GNU tar invocation for hand-made tars
TAR_DET=(tar --numeric-owner --owner=0 --group=0 --mtime="@$SDE")
PAX_DET=(--format=pax --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime)

setx() { python3 -c 'import os,sys; os.setxattr(sys.argv[1], sys.argv[2], sys.argv[3].encode())' "$@"; }
touch_all() { find "$1" -exec touch -h -d "@$SDE" {} +; }

LONGDIR=$(printf 'd%.0s' {1..60})                    # 60-byte directory name
LONGFILE=$(printf 'f%.0s' {1..60}).txt                # 64-byte file name
LONGNAME=long-name-$(printf 'n%.0s' {1..110}).txt     # one 124-byte component: not splittable into ustar prefix/name

# ================================================================ podman images
log "podman: base image (podman import of a hand-made rootfs tar)"
R=$WORK/rootfs-base
mkdir -p "$R"/{bin,etc/conf.d,data/dir,tmp}
printf '#!/bin/sh\necho "not a real shell"\n' > "$R/bin/sh";   chmod 0755 "$R/bin/sh"
echo hello            > "$R/etc/hello.txt"
echo private          > "$R/etc/private.key";               chmod 0600 "$R/etc/private.key"
echo secret           > "$R/etc/secret";                    chmod 0600 "$R/etc/secret"
echo a=1              > "$R/etc/conf.d/a.conf"
echo in-dir           > "$R/data/dir/keep.txt"
chmod 1777 "$R/tmp"
touch_all "$R"
"${TAR_DET[@]}" "${PAX_DET[@]}" --sort=name -C "$R" -cf "$WORK/base-rootfs.tar" .
podman_ import -q -c 'CMD ["/bin/sh"]' -c 'ENV PATH=/bin' -m "base import" \
  "$WORK/base-rootfs.tar" "$NS/base:v1" >/dev/null

log "podman: features layer (podman create + mount + edit + podman commit -f docker)"
C=$(podman_ create -q "$NS/base:v1" /bin/sh)
M=$(podman_ mount "$C")
mkdir -p "$M/café" "$M/data/long/$LONGDIR"
echo nonascii         > "$M/café/naïve-文件.txt"
echo long-path        > "$M/data/long/$LONGDIR/$LONGFILE"  # 135-byte path, fits ustar prefix+name
echo long-name        > "$M/data/long/$LONGNAME"            # needs PAX path
echo linked           > "$M/data/a.txt"
ln "$M/data/a.txt" "$M/data/a-hardlink.txt"
ln -s ../etc/hello.txt "$M/data/hello-symlink"
ln -s "long/$LONGDIR/$LONGFILE" "$M/data/long-symlink"      # 130-byte target: needs PAX linkpath
echo has-xattr        > "$M/data/xattr.txt"
setx "$M/data/xattr.txt" user.test hello
printf '#!/bin/sh\necho tool\n' > "$M/bin/tool";              chmod 0755 "$M/bin/tool"
rm "$M/etc/secret"                                          # file whiteout
rm -r "$M/data/dir"                                         # directory whiteout
rm -r "$M/etc/conf.d"; mkdir "$M/etc/conf.d"; echo b=2 > "$M/etc/conf.d/b.conf"  # delete + recreate dir
touch_all "$M"
podman_ unmount "$C" >/dev/null
podman_ commit -q -f docker -m "add features" -a "$AUTHOR" "$C" "$NS/podman-features:v1" >/dev/null 2>"$WORK/commit1.err" \
  || { cat "$WORK/commit1.err" >&2; exit 1; }

log "podman: config-only commit (no file changes)"
C=$(podman_ create -q "$NS/podman-features:v1" /bin/sh)
podman_ commit -q -f docker -c 'CMD ["/bin/sh","-c","cat /etc/hello.txt"]' \
  -c 'LABEL org.example.test=config-only' -m "config only" -a "$AUTHOR" \
  "$C" "$NS/podman:v1" >/dev/null 2>"$WORK/commit2.err" || { cat "$WORK/commit2.err" >&2; exit 1; }

log "podman: second image sharing the base layer"
C=$(podman_ create -q "$NS/base:v1" /bin/sh)
M=$(podman_ mount "$C")
echo other > "$M/other.txt"
touch_all "$M"
podman_ unmount "$C" >/dev/null
podman_ commit -q -f docker -m "other image" -a "$AUTHOR" "$C" "$NS/podman-other:v1" >/dev/null 2>&1

for t in podman-docker podman-docker-gz podman-oci podman-oci-zst multi-a; do
  podman_ tag "$NS/podman:v1" "$NS/$t:v1"
done
podman_ tag "$NS/podman-other:v1" "$NS/multi-b:v1"

# ================================================================ archives from podman
log "podman save"
cmd=(podman $PODMAN_OPTS save -q --format docker-archive -o "$OUT/podman-docker.tar" "$NS/podman-docker:v1")
"${cmd[@]}"
record podman-docker.tar "docker-archive (classic)" "podman $V_PODMAN" "$(show "${cmd[@]}")" "" \
  "import + commit -f docker (author, comment) + config-only commit; the last layer is an empty tar (1024 zero bytes), not an empty_layer history entry"

cmd=(podman $PODMAN_OPTS save -q --format oci-archive -o "$OUT/podman-oci.tar" "$NS/podman-oci:v1")
"${cmd[@]}"
record podman-oci.tar "oci-archive" "podman $V_PODMAN" "$(show "${cmd[@]}")" "" \
  "same image as podman-docker.tar; ref.name annotation is the full name"

cmd=(podman $PODMAN_OPTS save -q --format docker-archive -o "$WORK/podman-docker-gz.tar" "$NS/podman-docker-gz:v1")
"${cmd[@]}"
gzip -n -9 -c "$WORK/podman-docker-gz.tar" > "$OUT/podman-docker.tar.gz"
record podman-docker.tar.gz "docker-archive (classic)" "podman $V_PODMAN + gzip $V_GZIP" \
  "$(show "${cmd[@]}") && gzip -n -9 -c podman-docker-gz.tar > podman-docker.tar.gz" "" \
  "whole archive gzip-compressed; same image as podman-docker.tar"

cmd=(podman $PODMAN_OPTS save -q --format oci-archive -o "$WORK/podman-oci-zst.tar" "$NS/podman-oci-zst:v1")
"${cmd[@]}"
zstd -q -19 -c "$WORK/podman-oci-zst.tar" > "$OUT/podman-oci.tar.zst"
record podman-oci.tar.zst "oci-archive" "podman $V_PODMAN + zstd $V_ZSTD" \
  "$(show "${cmd[@]}") && zstd -19 -c podman-oci-zst.tar > podman-oci.tar.zst" "" \
  "whole archive zstd-compressed; same image as podman-oci.tar"

cmd=(podman $PODMAN_OPTS save -q -m --format docker-archive -o "$OUT/podman-multi-docker.tar" "$NS/multi-a:v1" "$NS/multi-b:v1")
"${cmd[@]}"
record podman-multi-docker.tar "docker-archive (classic), 2 images" "podman $V_PODMAN" "$(show "${cmd[@]}")" "" \
  "two images sharing the base layer (stored once, linked from both <id>/layer.tar symlinks); layers column = per image"

# ================================================================ skopeo
log "skopeo copy"
cmd=(skopeo copy -q --dest-compress --dest-compress-format gzip "${CS}$NS/podman:v1"
     "docker-archive:$OUT/skopeo-docker.tar:$NS/skopeo-docker:v1" --additional-tag "$NS/skopeo-docker:alias")
"${cmd[@]}"
record skopeo-docker.tar "docker-archive (classic)" "skopeo $V_SKOPEO" "$(show "${cmd[@]}")" "" \
  "one image, two RepoTags; docker-archive: ignores --dest-compress (layers stay uncompressed)"

cmd=(skopeo copy -q --dest-compress --dest-compress-format gzip "${CS}$NS/podman:v1"
     "oci-archive:$OUT/skopeo-oci-gzip.tar:$NS/skopeo-oci-gzip:v1")
"${cmd[@]}"
record skopeo-oci-gzip.tar "oci-archive" "skopeo $V_SKOPEO" "$(show "${cmd[@]}")" "" "gzip layers"

cmd=(skopeo copy -q --dest-compress --dest-compress-format zstd "${CS}$NS/podman:v1"
     "oci-archive:$OUT/skopeo-oci-zstd.tar:$NS/skopeo-oci-zstd:v1")
"${cmd[@]}"
record skopeo-oci-zstd.tar "oci-archive" "skopeo $V_SKOPEO" "$(show "${cmd[@]}")" "" "zstd layers (application/vnd.oci.image.layer.v1.tar+zstd)"

# ================================================================ umoci
log "umoci: layered image with deletions"
L=$WORK/umoci-layout
B=$WORK/umoci-bundle
UT=umoci-whiteout-v1
umoci init --layout "$L"
umoci new --image "$L:$UT"
umoci config --image "$L:$UT" --no-history --created "$SDE_ISO" --author "$AUTHOR" --config.cmd /bin/sh
umoci unpack --image "$L:$UT" "$B" >/dev/null
R=$B/rootfs
mkdir -p "$R"/{bin,etc,keep,victim/sub,gone/deep,"café"} "$R/long/$LONGDIR"
printf '#!/bin/sh\necho tool\n' > "$R/bin/tool";   chmod 0755 "$R/bin/tool"
echo private  > "$R/etc/private";                   chmod 0600 "$R/etc/private"
echo del      > "$R/etc/del.txt"
echo g        > "$R/gone/deep/g.txt"
echo a        > "$R/victim/a.txt"
echo b        > "$R/victim/sub/b.txt"
echo k        > "$R/keep/k.txt"
ln "$R/keep/k.txt" "$R/keep/k-hard.txt"
ln -s k.txt "$R/keep/k-sym"
echo x        > "$R/keep/x.txt"
setx "$R/keep/x.txt" user.test hello
echo nonascii > "$R/café/naïve-文件.txt"
echo long     > "$R/long/$LONGDIR/$LONGFILE"
echo long     > "$R/long/$LONGNAME"
touch_all "$R"
UREPACK=(umoci repack --refresh-bundle --history.created "$SDE_ISO" --history.author "$AUTHOR")
"${UREPACK[@]}" --history.comment "layer 1: files" --image "$L:$UT" "$B"
# layer 2: delete a file, delete a directory tree, replace a directory's contents
rm "$R/etc/del.txt"
rm -r "$R/gone"
rm -r "$R/victim/a.txt" "$R/victim/sub"
echo new > "$R/victim/new.txt"
touch_all "$R"
"${UREPACK[@]}" --history.comment "layer 2: deletions" --image "$L:$UT" "$B"
# layer 3: delete a directory and recreate it with different contents
rm -r "$R/keep"
mkdir "$R/keep"
echo k2 > "$R/keep/k2.txt"
touch_all "$R"
"${UREPACK[@]}" --history.comment "layer 3: dir deleted and recreated" --image "$L:$UT" "$B"
# config-only change: history entry with empty_layer=true
umoci config --image "$L:$UT" --config.cmd /bin/true --created "$SDE_ISO" \
  --history.created "$SDE_ISO" --history.author "$AUTHOR" --history.comment "config only" \
  --history.created_by "umoci config --config.cmd /bin/true"
umoci gc --layout "$L"

UMOCI_MANIFEST=$(jq -r '.manifests[0].digest' "$L/index.json" | cut -d: -f2)
UMOCI_LISTING=$WORK/umoci-layers.txt
: > "$UMOCI_LISTING"
n=0
for d in $(jq -r '.layers[].digest' "$L/blobs/sha256/$UMOCI_MANIFEST" | cut -d: -f2); do
  { echo "# layer $n: sha256:$d"; tar --xattrs -tvvzf "$L/blobs/sha256/$d"; } >> "$UMOCI_LISTING"
  n=$((n + 1))
done
if grep -q '\.wh\.\.wh\.\.opq' "$UMOCI_LISTING"; then UMOCI_OPQ=yes; else UMOCI_OPQ=no; fi

# metadata first (oci-layout, index.json), then blobs
"${TAR_DET[@]}" "${PAX_DET[@]}" --sort=name -C "$L" -cf "$OUT/umoci-whiteout-oci.tar" oci-layout index.json blobs
record umoci-whiteout-oci.tar "oci layout tar" "umoci $V_UMOCI + GNU tar $V_TAR" \
  "umoci init --layout L; umoci new --image L:$UT; umoci config --no-history --created … --config.cmd /bin/sh; umoci unpack --image L:$UT B; then 3× (edit B/rootfs; touch -d @\$SOURCE_DATE_EPOCH; umoci repack --refresh-bundle --history.created … --history.author … --history.comment … --image L:$UT B); umoci config --config.cmd /bin/true --history.comment 'config only' …; umoci gc --layout L; tar --format=pax --sort=name -C L -cf umoci-whiteout-oci.tar oci-layout index.json blobs" "" \
  "ref.name is a bare tag; umoci writes .wh.NAME for every deleted path (a deleted dir gives one .wh.DIR; a deleted-and-recreated dir gives .wh. entries for each old child, no opaque); layer 3 has keep/k2.txt without a keep/ dir entry; history has 1 empty_layer entry (4 history, 3 layers)"

cmd=(skopeo copy -q "oci-archive:$OUT/umoci-whiteout-oci.tar:$UT" "docker-archive:$OUT/umoci-whiteout-docker.tar:$NS/umoci-whiteout-docker:v1")
"${cmd[@]}"
record umoci-whiteout-docker.tar "docker-archive (classic)" "skopeo $V_SKOPEO (from umoci image)" "$(show "${cmd[@]}")" "" \
  "same image as umoci-whiteout-oci.tar, layers decompressed; history keeps the empty_layer entry (4 history entries, 3 layers)"

# ================================================================ hand-made opaque whiteout
log "hand-made OCI layout with an opaque whiteout (.wh..wh..opq)"
H=$WORK/handmade
mkdir -p "$H/l1/dir/sub" "$H/l2/dir" "$H/l3" "$H/layout/blobs/sha256"
echo a        > "$H/l1/dir/a.txt"
echo b        > "$H/l1/dir/sub/b.txt"
echo other    > "$H/l1/other.txt"
echo keep     > "$H/l1/keep.txt"
echo gnu-long > "$H/l1/$LONGNAME"
echo new      > "$H/l2/dir/new.txt"
setx "$H/l2/dir/new.txt" user.test opaque-layer
: > "$H/l2/dir/.wh..wh..opq"
: > "$H/l2/.wh.other.txt"
echo back     > "$H/l3/other.txt"
for d in l1 l2 l3; do touch_all "$H/$d"; done
# layer 1: GNU format (././@LongLink for the 124-byte name), uncompressed
"${TAR_DET[@]}" --format=gnu --no-recursion -C "$H/l1" -cf "$H/l1.tar" \
  dir dir/a.txt dir/sub dir/sub/b.txt keep.txt other.txt "$LONGNAME"
# layer 2: PAX with xattr; dir/new.txt comes BEFORE dir/.wh..wh..opq on purpose
# (the opaque marker hides lower-layer children only, wherever it appears)
"${TAR_DET[@]}" "${PAX_DET[@]}" --xattrs --xattrs-include='user.*' --no-recursion -C "$H/l2" -cf "$H/l2.tar" \
  dir dir/new.txt dir/.wh..wh..opq .wh.other.txt
gzip -n -9 -c "$H/l2.tar" > "$H/l2.tar.gz"
# layer 3: ustar, zstd; recreates other.txt after its whiteout
"${TAR_DET[@]}" --format=ustar --no-recursion -C "$H/l3" -cf "$H/l3.tar" other.txt
zstd -q -19 -c "$H/l3.tar" > "$H/l3.tar.zst"

blob() {  # blob FILE -> copies into layout, prints "sha256:HEX SIZE"
  local hex size
  hex=$(sha256sum "$1" | cut -d' ' -f1)
  size=$(stat -c %s "$1")
  cp "$1" "$H/layout/blobs/sha256/$hex"
  echo "sha256:$hex $size"
}
diffid() { echo "sha256:$(sha256sum "$1" | cut -d' ' -f1)"; }
read -r L1D L1S < <(blob "$H/l1.tar")
read -r L2D L2S < <(blob "$H/l2.tar.gz")
read -r L3D L3S < <(blob "$H/l3.tar.zst")
printf '%s' "{\"architecture\":\"amd64\",\"author\":\"$AUTHOR\",\"config\":{\"Cmd\":[\"/bin/sh\"],\"Env\":[\"PATH=/bin\"]},\"created\":\"$SDE_ISO\",\"history\":[{\"created\":\"$SDE_ISO\",\"created_by\":\"hand-made layer 1 (GNU tar, uncompressed)\"},{\"created\":\"$SDE_ISO\",\"created_by\":\"hand-made layer 2 (opaque dir, whiteout; gzip)\"},{\"created\":\"$SDE_ISO\",\"created_by\":\"hand-made config change\",\"comment\":\"config only\",\"empty_layer\":true},{\"created\":\"$SDE_ISO\",\"created_by\":\"hand-made layer 3 (recreate other.txt; zstd)\"}],\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"$(diffid "$H/l1.tar")\",\"$(diffid "$H/l2.tar")\",\"$(diffid "$H/l3.tar")\"]}}" > "$H/config.json"
read -r CFD CFS < <(blob "$H/config.json")
printf '%s' "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"$CFD\",\"size\":$CFS},\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"$L1D\",\"size\":$L1S},{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"$L2D\",\"size\":$L2S},{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+zstd\",\"digest\":\"$L3D\",\"size\":$L3S}]}" > "$H/manifest.json"
read -r MFD MFS < <(blob "$H/manifest.json")
printf '%s' "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"$MFD\",\"size\":$MFS,\"annotations\":{\"io.containerd.image.name\":\"$NS/handmade-opaque:v1\",\"org.opencontainers.image.ref.name\":\"v1\"}}]}" > "$H/layout/index.json"
printf '%s' '{"imageLayoutVersion":"1.0.0"}' > "$H/layout/oci-layout"
jq -e . "$H/config.json" "$H/manifest.json" "$H/layout/index.json" >/dev/null
touch_all "$H/layout"
# blobs first, metadata last (like Docker 25+ and podman)
"${TAR_DET[@]}" "${PAX_DET[@]}" --sort=name -C "$H/layout" -cf "$OUT/handmade-opaque-oci.tar" blobs index.json oci-layout
record handmade-opaque-oci.tar "oci layout tar" "make-test-images.sh (GNU tar $V_TAR, gzip, zstd, sha256sum)" \
  "hand-built in the script: layer tars with GNU tar --format=gnu/pax/ustar, JSON via printf, digests via sha256sum" "" \
  "layers tar / gzip / zstd in one manifest; layer 2 lists dir/new.txt before dir/.wh..wh..opq (new.txt must survive) and .wh.other.txt; layer 3 recreates other.txt; index has ref.name=v1 + io.containerd.image.name; empty_layer history entry between layers 2 and 3"

# skopeo refuses zstd layers for a docker destination ("zstd compression is not supported
# for docker images"), so convert to gzip in an OCI dir first.
cmd1=(skopeo copy -q --dest-compress --dest-compress-format gzip "oci-archive:$OUT/handmade-opaque-oci.tar:v1" "oci:$WORK/handmade-gzip:v1")
cmd=(skopeo copy -q "oci:$WORK/handmade-gzip:v1" "docker-archive:$OUT/handmade-opaque-docker.tar:$NS/handmade-opaque-docker:v1")
"${cmd1[@]}"
"${cmd[@]}"
record handmade-opaque-docker.tar "docker-archive (classic)" "skopeo $V_SKOPEO (from hand-made image)" "$(show "${cmd1[@]}") && $(show "${cmd[@]}")" "" \
  "same image as handmade-opaque-oci.tar, all layers decompressed to plain tar by skopeo (via a gzip OCI dir: skopeo refuses zstd layers for docker destinations); layer 0 keeps its GNU ././@LongLink bytes"

# ================================================================ verification
log "verify every archive with skopeo inspect + skopeo copy to dir: (re-checks digests)"
verify() {  # verify TRANSPORT FILE [SUFFIX]
  local ref="$1:$2${3:-}"
  rm -rf "$WORK/verify"
  skopeo inspect "$ref" >/dev/null
  skopeo copy -q "$ref" "dir:$WORK/verify" >/dev/null
  echo "  ok  $ref" >&2
}
declare -A VERIFIED
for f in podman-docker.tar skopeo-docker.tar umoci-whiteout-docker.tar handmade-opaque-docker.tar; do
  verify docker-archive "$OUT/$f"; VERIFIED[$f]="skopeo inspect + copy ok"
done
verify docker-archive "$OUT/podman-multi-docker.tar" ":@0"
verify docker-archive "$OUT/podman-multi-docker.tar" ":@1"
verify docker-archive "$OUT/podman-multi-docker.tar" ":$NS/multi-b:v1"
VERIFIED[podman-multi-docker.tar]="skopeo inspect + copy ok (@0, @1, by tag)"
for f in podman-oci.tar skopeo-oci-gzip.tar skopeo-oci-zstd.tar umoci-whiteout-oci.tar handmade-opaque-oci.tar podman-oci.tar.zst; do
  verify oci-archive "$OUT/$f"; VERIFIED[$f]="skopeo inspect + copy ok"
done
VERIFIED[podman-oci.tar.zst]="skopeo inspect + copy ok (reads the zstd file directly)"
# skopeo 1.9.3 fails on a gzip-compressed docker-archive ("loading tar component
# manifest.json: unexpected EOF") although it reads a zstd-compressed one: verify the
# decompressed bytes, and record whether the direct read works with this version.
gzip -dc "$OUT/podman-docker.tar.gz" > "$WORK/podman-docker-gunzipped.tar"
verify docker-archive "$WORK/podman-docker-gunzipped.tar"
if skopeo inspect "docker-archive:$OUT/podman-docker.tar.gz" >/dev/null 2>"$WORK/gz.err"; then
  VERIFIED[podman-docker.tar.gz]="skopeo inspect + copy ok"
  GZ_DIRECT="works"
else
  VERIFIED[podman-docker.tar.gz]="ok after gunzip (skopeo $V_SKOPEO cannot read it directly)"
  GZ_DIRECT="fails (\`$(grep -o 'loading tar component[^"\\]*' "$WORK/gz.err" | head -1 || echo 'see skopeo stderr')\`)"
fi

# fill the verified column
awk -F'\t' -v OFS='\t' 'NR==FNR { v[$1]=$2; next } { $5 = v[$1]; print }' \
  <(for k in "${!VERIFIED[@]}"; do printf '%s\t%s\n' "$k" "${VERIFIED[$k]}"; done) "$META" > "$META.new"
mv "$META.new" "$META"

# ================================================================ expected union views
log "expected rootfs listings (skopeo -> oci dir, umoci unpack applies the layers)"
expect() {  # expect NAME SRCREF
  local name=$1 src=$2
  rm -rf "$WORK/exp"; mkdir -p "$WORK/exp"
  skopeo copy -q --dest-compress --dest-compress-format gzip "$src" "oci:$WORK/exp/layout:img"
  umoci unpack --image "$WORK/exp/layout:img" "$WORK/exp/bundle" >/dev/null
  $DESCRIBE rootfs "$WORK/exp/bundle/rootfs" > "$OUT/expected/$name.rootfs.txt"
}
expect podman "oci-archive:$OUT/podman-oci.tar"
expect podman-other "docker-archive:$OUT/podman-multi-docker.tar:@1"
expect umoci-whiteout "oci-archive:$OUT/umoci-whiteout-oci.tar"
expect handmade-opaque "oci-archive:$OUT/handmade-opaque-oci.tar"
# sanity checks of the union views against what the layers are meant to do
has()    { grep -qE -- "$2" "$OUT/expected/$1.rootfs.txt" || { echo "expected/$1: missing $2" >&2; exit 1; }; }
hasnot() { if grep -qE -- "$2" "$OUT/expected/$1.rootfs.txt"; then echo "expected/$1: unexpected $2" >&2; exit 1; fi; }
has    handmade-opaque ' dir/new.txt size=4 .* xattr:user.test=opaque-layer'
hasnot handmade-opaque ' dir/(a.txt|sub)'
has    handmade-opaque ' other.txt size=5 '
has    handmade-opaque ' keep.txt '
hasnot podman ' etc/secret | data/dir/| etc/conf.d/a.conf '
has    podman ' etc/conf.d/b.conf '
has    podman ' data/xattr.txt .*xattr:user.test=hello'
hasnot umoci-whiteout ' (gone/|etc/del.txt|victim/a.txt|victim/sub/|keep/k.txt|keep/x.txt)'
has    umoci-whiteout ' keep/k2.txt '

# ================================================================ README + INDEX.tsv
log "INDEX.tsv and README.md"
$DESCRIBE index "$META" "$OUT" > "$WORK/table.md"
HANDMADE_LISTING=$(for t in l1.tar l2.tar l3.tar; do echo "# $t"; tar --xattrs -tvvf "$H/$t" 2>&1; done)
PODMAN_L2=$(mkdir -p "$WORK/pd" && tar -C "$WORK/pd" -xf "$OUT/podman-docker.tar" manifest.json \
  && tar -xOf "$OUT/podman-docker.tar" "$(jq -r '.[0].Layers[1]' "$WORK/pd/manifest.json")" | tar --xattrs -tvvf -)

cat > "$OUT/README.md" <<EOF
# TestImages — small image archives written by real tools

Fixtures for ocitool's tests: every archive here was written by the named tool
(or built by hand where no tool emits the feature), verified with skopeo, and
described by an independent parser (\`describe-archives.py\`). Tests read these
committed files; they never run the generator.

* Regenerate: \`sudo bash TestImages/make-test-images.sh\` (root, no network; temp state in
  \`\$TI_WORK\`, default \`/tmp/ocitool-testimages\`). Byte-identical re-runs are not
  guaranteed (podman stamps commit times), but the structure and features are.
* Tool versions used: see \`VERSIONS\` (podman $V_PODMAN, skopeo $V_SKOPEO, umoci $V_UMOCI,
  GNU tar $V_TAR, zstd $V_ZSTD, gzip $V_GZIP). \`SOURCE_DATE_EPOCH=$SDE\` ($SDE_ISO) for
  file mtimes and umoci/hand-made \`created\` fields.
* Commands below omit podman's storage flags: every \`podman\` call ran as
  \`podman --root \$TI_WORK/podman/root --runroot \$TI_WORK/podman/run --storage-driver vfs\`,
  and \`containers-storage:\` means \`containers-storage:[vfs@ROOT+RUNROOT]\`.
* \`INDEX.tsv\`: machine-readable summary, columns \`file format outer_compression tags layers features\`
  (format \`docker\`|\`oci\`; tags comma-separated or \`-\`: docker RepoTags, or for OCI the
  \`io.containerd.image.name\` annotation if present, else \`org.opencontainers.image.ref.name\`;
  layers = layer count, comma-separated per image for multi-image archives; features comma-separated).
* \`expected/*.rootfs.txt\`: the union view of an image as unpacked by umoci $V_UMOCI (after
  \`skopeo copy\` to an OCI dir), one line per path:
  \`type mode uid:gid path [size= sha256= links= xattr:]\` or \`l ... path -> target\`,
  sorted by path (byte order) over the whole tree.
  Files: \`podman\` (podman-docker/-oci/-gz/-zst, skopeo-*, multi @0), \`podman-other\`
  (multi @1), \`umoci-whiteout\` (both umoci archives), \`handmade-opaque\` (both hand-made archives).

## Feature words

whiteout = \`.wh.NAME\` entry; opaque = \`.wh..wh..opq\`; hardlink / symlink = tar typeflag 1 / 2;
longpath = member name > 100 bytes; longlink = link target > 100 bytes; nonascii = UTF-8 name
(\`café/naïve-文件.txt\`); xattr = PAX \`SCHILY.xattr.user.test\`; emptylayer = config history entry with
\`empty_layer: true\`; emptytar = a layer that is an empty tar (1024 zero bytes); pax = PAX extended
headers present; gnulong = GNU \`././@LongLink\` entries; dotslash = names start with \`./\`;
rootdir = an entry for the layer root itself (\`.\` or \`./\`);
mode0600 / mode0755 = regular files with those permissions; sticky = directory with mode 1777;
dir = directory entries; mixedcompression = one manifest with layers of different compression;
sharedlayer = a layer blob used by more than one image of the archive.

## Archives

$(cat "$WORK/table.md")

## Tool behaviour observed while building (podman $V_PODMAN, skopeo $V_SKOPEO, umoci $V_UMOCI)

* \`podman commit\` of a container with no file changes adds a real layer: an empty tar
  (1024 zero bytes, diff_id \`sha256:5f70bf18a086…\`), not an \`empty_layer\` history entry. The
  \`empty_layer\` history entries in this set come from \`umoci config\` and the hand-made image.
* \`podman commit -f docker -m MSG\` puts MSG in the config's top-level \`comment\`; the new history
  entry's \`comment\` is \`FROM <base image>\` and its \`created_by\` is the container command. podman
  prints a spurious "COMMENT is not supported for OCI image format" warning even with \`-f docker\`.
* podman (vfs driver) diffs the container against its image: deletions become \`.wh.NAME\`
  (a deleted directory becomes one \`.wh.DIR\`), a deleted-and-recreated directory gives per-file
  whiteouts, never \`.wh..wh..opq\`. User xattrs are kept as \`SCHILY.xattr.user.*\`. The whiteout
  entries carry the commit time as mtime. Its features layer (layer 1 of podman-docker.tar):

\`\`\`
$PODMAN_L2
\`\`\`

* umoci repack emits opaque whiteouts: **$UMOCI_OPQ**. It writes \`.wh.NAME\` for each deleted path
  (one \`.wh.DIR\` for a deleted tree); the layer entries are not sorted; a changed directory whose
  mtime did not change gets no directory entry of its own (layer 3 has \`keep/k2.txt\` but no
  \`keep/\`). \`repack\` needs \`--refresh-bundle\` to stack layers from one bundle; without it the
  second repack replaces the first. Its layers (\`tar --xattrs -tvvzf\` of each blob):

\`\`\`
$(cat "$UMOCI_LISTING")
\`\`\`

* Because umoci does not emit \`.wh..wh..opq\`, \`handmade-opaque-oci.tar\` provides it. Its layers:

\`\`\`
$HANDMADE_LISTING
\`\`\`

* skopeo \`docker-archive:\` destinations always store uncompressed layers (\`--dest-compress\` has no
  effect). skopeo 1.9.3 cannot write several images into one docker-archive; \`podman save -m\`
  can (docker-archive only). \`--additional-tag\` adds RepoTags to the one image.
* skopeo reading a whole-file-compressed archive: \`docker-archive:podman-docker.tar.gz\` $GZ_DIRECT;
  \`oci-archive:\` of a \`.tar.zst\` works (and zstd-compressed docker-archive works too).
* podman's docker-archive stores layers as \`<diffid-hex>.tar\` with \`<id>/layer.tar\` symlinks to them,
  plus \`<id>/json\`, \`<id>/VERSION\` and \`repositories\`. Its oci-archive puts \`blobs/\` first and
  uses the full image name as \`org.opencontainers.image.ref.name\`; umoci uses a bare tag.
EOF

if [ "${TI_KEEP:-0}" != 1 ]; then   # TI_KEEP=1 keeps $WORK for inspection
  podman_ rm -af >/dev/null 2>&1 || true
  rm -rf "$WORK"
fi

log "outputs"
ls -la "$OUT" "$OUT/expected" >&2
du -sh "$OUT" >&2
cat "$OUT/INDEX.tsv" >&2
