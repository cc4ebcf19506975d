#!/usr/bin/env bash
# Builds thumbflow-lambda.zip: the thumbflow binary as a Lambda custom runtime (provided.al2023),
# self-contained, so it does not depend on which libraries the Lambda image has:
#
#   bootstrap                       a /bin/sh script Lambda starts: runs bin/thumbflow through the
#                                   shipped dynamic loader with lib/ as the only library path,
#                                   and argv[0] ".../bootstrap" (so thumbflow runs its runtime loop)
#   bin/thumbflow                   the binary (debug symbols stripped)
#   ca-certificates.crt             the CA bundle for HTTPS (SSL_CERT_FILE)
#   lib/ld-linux-*.so.*             the loader of the glibc the binary was linked against
#   lib/*.so.*                      every shared library the binary and the HEIF module need
#   <triplet>/vips-modules-<ver>/vips-heif.so
#                                   the one libvips module thumbflow allows (HEIF/AVIF); the others
#                                   (ImageMagick, PDF, OpenSlide, JPEG XL) are blocked by policy and
#                                   not shipped
#
# Usage: deploy/package-lambda.sh [--binary PATH] [--out FILE]
#   --binary  the thumbflow executable (default: build/release/src/cli/thumbflow)
#   --out     the zip to write (default: ./thumbflow-lambda.zip)
# Prints the architecture (the template's Architecture parameter must match) and the zipped and
# unzipped sizes against Lambda's limits (50 MB zipped for a direct upload, 250 MB unzipped);
# exits 1 when a limit is exceeded.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
binary="$here/build/release/src/cli/thumbflow"
out="$PWD/thumbflow-lambda.zip"
while (( $# )); do
  case "$1" in
    --binary) binary="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) echo "package-lambda.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

readonly zip_limit=$((50 * 1024 * 1024))
readonly unzipped_limit=$((250 * 1024 * 1024))

[[ -x "$binary" ]] || { echo "package-lambda.sh: $binary is not an executable (build it first: cmake --build --preset release)" >&2; exit 1; }
for tool in ldd zip strip; do
  command -v "$tool" >/dev/null || { echo "package-lambda.sh: $tool is missing (scripts/install-deps installs it)" >&2; exit 1; }
done

arch="$(uname -m)"
case "$arch" in
  x86_64) lambda_arch=x86_64 ;;
  aarch64) lambda_arch=arm64 ;;
  *) echo "package-lambda.sh: Lambda has no $arch architecture" >&2; exit 1 ;;
esac

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/lib"

# The libvips module folder. Where libvips looks for it under $VIPSHOME depends on how it was
# built (Debian 12's 8.14 looks in $VIPSHOME/x86_64-linux-gnu/vips-modules-8.14), so ask it: its
# debug log names the folders it searches.
vips_libdir="$(pkg-config --variable=libdir vips 2>/dev/null || echo "/usr/lib/$(gcc -dumpmachine)")"
module_dir="$(ls -d "$vips_libdir"/vips-modules-* 2>/dev/null | head -n 1 || true)"
heif_module=""
if [[ -n "$module_dir" && -f "$module_dir/vips-heif.so" ]]; then
  # A 1x1 GIF makes thumbflow start libvips.
  printf 'GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;' >"$stage/probe.gif"
  searched="$(env -i VIPSHOME="$stage" G_MESSAGES_DEBUG=all "$binary" probe "$stage/probe.gif" 2>&1 |
              sed -n 's/.*searching "\(.*\/vips-modules-[^"]*\)".*/\1/p' | head -n 1 || true)"
  rm -f "$stage/probe.gif"
  [[ "$searched" == "$stage"/* ]] || { echo "package-lambda.sh: cannot tell where libvips looks for modules under VIPSHOME" >&2; exit 1; }
  mkdir -p "$searched"
  heif_module="$searched/vips-heif.so"
  cp -L "$module_dir/vips-heif.so" "$heif_module"
fi

cp -L "$binary" "$stage/bin/thumbflow"
# Lambda's Amazon Linux 2023 keeps its CA bundle in /etc/pki/tls/certs, not where Debian's
# libcurl looks (/etc/ssl/certs/ca-certificates.crt): ship the build machine's bundle.
ca_bundle=/etc/ssl/certs/ca-certificates.crt
[[ -f "$ca_bundle" ]] || { echo "package-lambda.sh: $ca_bundle is missing (install ca-certificates)" >&2; exit 1; }
cp -L "$ca_bundle" "$stage/ca-certificates.crt"

# Every library ldd resolves for the binary and the module, and the loader ldd names.
loader=""
copy_deps() {
  local line lib path
  while IFS= read -r line; do
    if [[ "$line" =~ ^[[:space:]]*([^[:space:]]+)\ =\>\ (/[^[:space:]]+) ]]; then
      path="${BASH_REMATCH[2]}"
      lib="$(basename "${BASH_REMATCH[1]}")"
      [[ -f "$stage/lib/$lib" ]] || cp -L "$path" "$stage/lib/$lib"
    elif [[ "$line" =~ ^[[:space:]]*(/[^[:space:]]*ld-linux[^[:space:]]*) ]]; then
      loader="${BASH_REMATCH[1]}"
    elif [[ "$line" == *"not found"* ]]; then
      echo "package-lambda.sh: $1 needs a library that is not installed: $line" >&2
      exit 1
    fi
  done < <(ldd "$1")
}
copy_deps "$binary"
[[ -n "$heif_module" ]] && copy_deps "$module_dir/vips-heif.so"
[[ -n "$loader" ]] || { echo "package-lambda.sh: ldd named no dynamic loader for $binary" >&2; exit 1; }
loader_name="$(basename "$loader")"
cp -L "$loader" "$stage/lib/$loader_name"

# Debug information is most of the binary's size and none of its behaviour.
strip --strip-unneeded "$stage/bin/thumbflow" "$stage"/lib/*.so* 2>/dev/null || true
[[ -n "$heif_module" ]] && strip --strip-unneeded "$heif_module"
chmod 0755 "$stage/bin/thumbflow" "$stage/lib/$loader_name"

cat >"$stage/bootstrap" <<EOF
#!/bin/sh
# Lambda starts this (provided.al2023). thumbflow runs on the loader and libraries shipped
# beside it, not the image's; started with argv[0] bootstrap and AWS_LAMBDA_RUNTIME_API set, it
# runs the Runtime API loop. VIPSHOME tells libvips where its HEIF module is.
# Only shell builtins here: the environment may have no PATH.
case "\$0" in */*) here="\${0%/*}" ;; *) here=. ;; esac
here="\$(cd "\$here" && pwd)"
export VIPSHOME="\$here"
export SSL_CERT_FILE="\${SSL_CERT_FILE:-\$here/ca-certificates.crt}"
exec "\$here/lib/$loader_name" --library-path "\$here/lib" --argv0 "\$here/bootstrap" "\$here/bin/thumbflow" "\$@"
EOF
chmod 0755 "$stage/bootstrap"

rm -f "$out"
(cd "$stage" && zip -q -9 -r -X "$out" .)

zipped=$(stat -c %s "$out")
unzipped=$(du -sb --apparent-size "$stage" | cut -f1)
files=$(find "$stage" -type f | wc -l)
mb() { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1048576 }'; }
echo "package-lambda.sh: $out"
echo "  architecture $lambda_arch (template parameter Architecture=$lambda_arch), loader $loader_name"
echo "  $files files; zipped $(mb "$zipped") of Lambda's 50 MB; unzipped $(mb "$unzipped") of 250 MB"
status=0
if (( zipped > zip_limit )); then
  echo "package-lambda.sh: the zip is over 50 MB: upload it to S3 and deploy from there (limit for S3: 250 MB unzipped)" >&2
fi
if (( unzipped > unzipped_limit )); then
  echo "package-lambda.sh: unzipped over Lambda's 250 MB limit" >&2
  status=1
fi
exit $status
