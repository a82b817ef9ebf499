# Turns the Debian base into a station root file system: the agent and its Node, the systemd units
# and first-boot script from image/rootfs/, an empty machine-id (first boot makes one), journald in
# RAM, a prebuilt busybox node template.
customize_rootfs() { # $1 arch, $2 rootfs dir, $3 staged agent dir
  local arch=$1 root=$2 stage=$3
  cp -a "$IMAGE_OVERLAY/." "$root/"
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
  # Root may log in on the console only (no password is set: lock it until the owner sets one).
  chroot "$root" passwd -l root >/dev/null 2>&1 || true
  echo "station image built $(date -u +%Y-%m-%dT%H:%M:%SZ) from $(cd "$IMAGE_ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)" > "$root/etc/station/image-release"

  prebuild_templates "$root"
}

# Node templates the node engine would otherwise build on first use. busybox is instant to make
# (the busybox-static binary); the debian template needs the engine's own builder and a mirror,
# so it is built on first use unless STATION_IMAGE_DEBIAN_TEMPLATE=1.
prebuild_templates() { # $1 rootfs dir
  local root=$1 cache="$1/var/lib/station-templates"
  mkdir -p "$cache/busybox"
  # The busybox template is the busybox-static binary plus its applet links, done by lxc-busybox
  # at create time; the image only has to carry busybox-static (in the recipe). Record it.
  [ -x "$root/bin/busybox" ] || die "busybox-static missing from the image"
  printf 'busybox %s\n' "$(chroot "$root" /bin/busybox 2>&1 | head -n1)" > "$cache/busybox/ready"
}
