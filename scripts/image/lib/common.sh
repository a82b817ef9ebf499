# Shared by scripts/image/image and image-test: paths, the step counter that shows progress, arch.
IMAGE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
IMAGE_RECIPE="$IMAGE_ROOT/image/recipe"
IMAGE_OVERLAY="$IMAGE_ROOT/image/rootfs"
IMAGE_BUILD="${STATION_IMAGE_BUILD:-$IMAGE_ROOT/image/build}"
DEBIAN_SUITE=bookworm
DEBIAN_MIRROR=${STATION_DEBIAN_MIRROR:-http://deb.debian.org/debian}
DEBIAN_SECURITY=${STATION_DEBIAN_SECURITY:-http://deb.debian.org/debian-security}

_step=0
_steps=1
_t0=$(date +%s)
steps() { _steps=$1; }
step() { _step=$((_step + 1)); station_step "$*"; printf '[%d/%d %4ss] %s\n' "$_step" "$_steps" "$(( $(date +%s) - _t0 ))" "$*"; }
note() { printf '        %s\n' "$*"; }
die() { printf 'image: %s\n' "$*" >&2; exit 1; }

# Debian architecture name -> what other tools call it.
arch_qemu() { case "$1" in amd64) echo x86_64 ;; arm64) echo aarch64 ;; *) die "unknown arch $1" ;; esac; }
arch_node() { case "$1" in amd64) echo x64 ;; arm64) echo arm64 ;; *) die "unknown arch $1" ;; esac; }
host_arch() { dpkg --print-architecture; }

# Packages from the recipe lists (comments and blank lines dropped), comma-separated for mmdebstrap.
recipe_packages() {
  cat "$IMAGE_RECIPE/packages-common.txt" "$IMAGE_RECIPE/packages-$1.txt" | sed 's/#.*//' | awk 'NF {print $1}' | paste -sd, -
}

human_size() { numfmt --to=iec --suffix=B "$1"; }
