# Turns the Debian base into a station root file system: the agent and its Node, the systemd units
# and first-boot script from image/rootfs/, an empty machine-id (first boot makes one), journald in
# RAM, a prebuilt busybox node template.
customize_rootfs() { # $1 arch, $2 rootfs dir, $3 staged agent dir
  local arch=$1 root=$2 stage=$3
  cp -a "$IMAGE_OVERLAY/." "$root/"
  # The station's own shell scripts (first boot, grow-root) report failures the same way as ours.
  install -m 0644 "$IMAGE_ROOT/scripts/lib/fail-loudly.sh" "$root/usr/lib/station/fail-loudly.sh"
  mkdir -p "$root/opt/station/node/bin"
  rm -rf "$root/opt/station/app"
  cp -a "$stage" "$root/opt/station/app"
  install -m 0755 "$(node_binary "$arch")" "$root/opt/station/node/bin/node"
  ln -sf /opt/station/node/bin/node "$root/usr/local/bin/node"
  cat > "$root/usr/local/bin/station" <<'SH'
#!/bin/sh
# The station CLI, talking to the local agent.
exec /opt/station/node/bin/node /opt/station/app/dist/scripts/cli/main.js "$@"
SH
  chmod 0755 "$root/usr/local/bin/station"

  # Identity: made on first boot, never baked into the image.
  : > "$root/etc/machine-id"
  rm -f "$root/var/lib/dbus/machine-id"
  echo station > "$root/etc/hostname"
  printf '127.0.0.1\tlocalhost\n127.0.1.1\tstation\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' > "$root/etc/hosts"
  rm -rf "$root/var/lib/station"

  systemctl --root="$root" enable station-firstboot.service station.service NetworkManager.service systemd-timesyncd.service >/dev/null 2>&1
  systemctl --root="$root" disable lxc-net.service >/dev/null 2>&1 || true
  systemctl --root="$root" mask apt-daily.timer apt-daily-upgrade.timer >/dev/null 2>&1 || true
  # etcd runs as the agent's child on the mesh address; Debian's own service would serve an empty store on localhost
  systemctl --root="$root" mask etcd.service >/dev/null 2>&1 || true
  # Root may log in on the console only (no password is set: lock it until the owner sets one).
  sed -i 's/^root:[^:]*:/root:!*:/' "$root/etc/shadow"
  echo "station image built $(date -u +%Y-%m-%dT%H:%M:%SZ) from $(cd "$IMAGE_ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)" > "$root/etc/station/image-release"

  prebuild_templates "$arch" "$root" "${STATION_IMAGE_DEBIAN_TEMPLATE:-1}"
}

# Node templates, built by the node engine's own builder (lib/templates.ts) into the agent's
# default cache (<state dir>/templates): busybox always; debian (about 850 MB, a minute from the
# mirror) unless the image is built with --no-debian-template. Same-arch builds only: the busybox
# template copies the build machine's busybox-static.
prebuild_templates() { # $1 arch, $2 rootfs dir, $3 with debian (1/0)
  local arch=$1 root=$2 debian=$3 cache="$2/var/lib/station/templates"
  if [ "$arch" != "$(host_arch)" ]; then
    note "templates: not prebuilt for $arch (built on the station at first use)"
    return
  fi
  mkdir -p "$cache"
  chmod 0700 "$root/var/lib/station"
  local list=(busybox); [ "$debian" = 1 ] && list+=(debian)
  node "$IMAGE_ROOT/scripts/image/lib/templates.ts" "$cache" "${list[@]}"
  rm -rf "$cache/.unused-lxc"
}
