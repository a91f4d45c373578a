#!/bin/sh
# Builds the peerbridge image: image.sh [VERSION] [TAG]
#
# VERSION (default: git describe, else "(devel)") is stamped into the
# binary; TAG defaults to peerbridge:VERSION. The builder is $BUILDER, else
# the first of podman, buildah and docker found.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
version=${1:-$(git -C "$here" describe --tags --always --dirty 2>/dev/null || echo "(devel)")}
tag=${2:-peerbridge:$(echo "$version" | tr -c 'A-Za-z0-9_.\n-' '-')}
builder=${BUILDER:-$(command -v podman || command -v buildah || command -v docker || true)}
if [ -z "$builder" ]; then
  echo "image.sh: no podman, buildah or docker to build with" >&2
  exit 2
fi
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
mkdir "$ctx/state"
cp "$here/Containerfile" "$ctx/Containerfile"
(cd "$here/../../.." && CGO_ENABLED=0 go build -trimpath -ldflags "-X main.version=$version" -o "$ctx/peerbridge" ./cmd/peerbridge)
case "$(basename "$builder")" in
  buildah) "$builder" build --layers=false -t "$tag" -f "$ctx/Containerfile" "$ctx" >&2 ;;
  *) "$builder" build -t "$tag" -f "$ctx/Containerfile" "$ctx" >&2 ;;
esac
echo "$tag"
