#!/usr/bin/env bash
# A script written for the docker CLI (docker image ls / inspect / history /
# prune). ocitool's tests run it unchanged with a `docker` on PATH that is
# ocitool (a symlink), against a store holding IMAGE.
# Usage: docker-images.sh IMAGE
set -euo pipefail
image=${1:?usage: $0 IMAGE}
fail() { echo "FAIL: $*" >&2; exit 1; }

# Every repository:tag, one a line; the image is among them.
docker image ls --format '{{.Repository}}:{{.Tag}}' | grep -qxF "$image" || fail "image ls lacks $image"
docker images --format 'table {{.Repository}}\t{{.Tag}}\t{{.Size}}' | head -n1 | grep -q '^REPOSITORY  *TAG  *SIZE$' || fail "table header"

# IDs: full from inspect, short from images -q; they agree.
id=$(docker image inspect --format '{{.Id}}' "$image")
[[ $id == sha256:* ]] || fail "inspect Id: $id"
short=$(docker images -q "$image" | head -n1)
[[ ${id:7:12} == "$short" ]] || fail "images -q: $short is not ${id:7:12}"
[[ $(docker images --no-trunc -q "$image" | head -n1) == "$id" ]] || fail "images -q --no-trunc"

# OS, architecture, size, layers.
platform=$(docker image inspect -f '{{.Os}}/{{.Architecture}}' "$image")
[[ $platform == linux/* ]] || fail "platform: $platform"
size=$(docker image inspect -f '{{.Size}}' "$image")
(( size > 0 )) || fail "size: $size"
layers=$(docker image inspect -f '{{len .RootFS.Layers}}' "$image")
listed=$(docker image inspect -f '{{range .RootFS.Layers}}{{println .}}{{end}}' "$image" | grep -c '^sha256:')
(( layers == listed )) || fail "layers: $layers vs $listed"

# The whole document is JSON, an array of one object with docker's keys.
docker image inspect "$image" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert isinstance(d, list) and len(d) == 1, d
for k in ("Id", "RepoTags", "RepoDigests", "Created", "Config", "Architecture", "Os", "Size", "RootFS", "Metadata"):
    assert k in d[0], k
' || fail "inspect JSON"
docker inspect --format '{{json .Config}}' "$image" | python3 -c 'import json,sys; json.load(sys.stdin)' || fail "json .Config"
tags=$(docker image inspect -f '{{join .RepoTags ","}}' "$image")
[[ ,$tags, == *,$image,* ]] || fail "RepoTags: $tags"

# History: newest first, the image's ID on top; byte sizes without -H.
[[ $(docker history -q "$image" | head -n1) == "$short" ]] || fail "history -q"
docker history --no-trunc --format '{{.CreatedBy}}' "$image" > /dev/null
docker image history -H=false --format '{{.Size}}' "$image" | grep -qvE '^[0-9]+$' && fail "history -H=false sizes"
docker history --format 'table {{.ID}}\t{{.Size}}' "$image" | head -n1 | grep -q '^IMAGE  *SIZE$' || fail "history header"

# Clean up dangling images, as CI scripts do.
docker image prune -f | tail -n1 | grep -q '^Total reclaimed space: ' || fail "prune"
[[ -z $(docker images -q --filter dangling=true) ]] || fail "dangling images left"
for id in $(docker images -q --filter dangling=true); do docker rmi "$id"; done

echo "all docker image checks passed"
