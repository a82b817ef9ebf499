# The Debian base of the image: mmdebstrap with the recipe's packages. Cached by a hash of the
# recipe lists and this file, so an agent-only change rebuilds in seconds, not minutes.
# Downloaded .debs are kept in $IMAGE_BUILD/apt-cache/<arch> and reused (mmdebstrap sync-in/out).
build_base() { # $1 arch, $2 output dir
  local arch=$1 out=$2 cache="$IMAGE_BUILD/apt-cache/$1" components=main
  [ "$arch" = arm64 ] && components="main,non-free-firmware"
  mkdir -p "$cache"
  local foreign=() wrap=()
  if [ "$arch" != "$(host_arch)" ]; then
    # Maintainer scripts of a foreign rootfs run through qemu-user (lib/foreign.sh).
    foreign=(--architectures="$arch")
    wrap=(foreign_run "$arch")
  fi
  rm -rf "$out.tmp"
  "${wrap[@]}" mmdebstrap --variant=minbase --mode=root --format=directory \
    --components="$components" "${foreign[@]}" \
    --include="$(recipe_packages "$arch")" \
    --aptopt='APT::Install-Recommends "false"' \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
    --skip=download/empty --skip=essential/unlink \
    --setup-hook="mkdir -p \"\$1/var/cache/apt/archives/\"" \
    --setup-hook="sync-in '$cache' /var/cache/apt/archives/" \
    --customize-hook="sync-out /var/cache/apt/archives '$cache'" \
    --customize-hook='rm -f "$1"/var/cache/apt/archives/*.deb' \
    "$DEBIAN_SUITE" "$out.tmp" \
    "deb $DEBIAN_MIRROR $DEBIAN_SUITE ${components//,/ }" \
    "deb $DEBIAN_MIRROR $DEBIAN_SUITE-updates ${components//,/ }" \
    "deb $DEBIAN_SECURITY $DEBIAN_SUITE-security ${components//,/ }" 2>&1 | sed -u 's/^/        /' | grep -E --line-buffered '^\s*(I:|W:|E:)' || true
  [ -x "$out.tmp/usr/bin/systemctl" ] || die "mmdebstrap failed (no systemd in $out.tmp)"
  rm -rf "$out"
  mv "$out.tmp" "$out"
}

base_key() { # a hash of everything that shapes the base
  cat "$IMAGE_RECIPE/packages-common.txt" "$IMAGE_RECIPE/packages-$1.txt" "${BASH_SOURCE[0]}" | sha256sum | cut -c1-16
}
