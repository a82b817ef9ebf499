# Runs a command that executes foreign-architecture (arm64) binaries, e.g. mmdebstrap's maintainer
# scripts, without touching the machine's binfmt_misc: inside a private user + mount + pid
# namespace it mounts its own binfmt_misc instance (Linux >= 6.7 gives each user namespace one),
# registers qemu-user-static there (F flag: the interpreter is opened now, so it works in chroots)
# and runs the command. Ids map 1:1 (0..65535), so files come out owned as they should be.
# Needs: qemu-user-static (the static interpreters only; its host-wide registration is not used).
foreign_run() { # $1 debian arch, rest: command
  local arch=$1; shift
  local qarch; qarch=$(arch_qemu "$arch")
  local interp="/usr/bin/qemu-$qarch-static"
  [ -x "$interp" ] || die "cross-building $arch needs $interp (Debian package qemu-user-static)"
  local magic mask
  case "$qarch" in
    aarch64) magic='\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00'
             mask='\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff' ;;
    *) die "no binfmt pattern for $qarch" ;;
  esac
  local inner; inner=$(mktemp /tmp/station-foreign.XXXXXX)
  cat > "$inner" <<SH
#!/bin/bash
while [ -z "\$(cat /proc/self/uid_map)" ]; do sleep 0.05; done
set -e
mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc || { echo "foreign: this kernel cannot give a user namespace its own binfmt_misc (Linux >= 6.7 needed)" >&2; exit 90; }
printf '%s' ':station-$qarch:M::$magic:$mask:$interp:F' > /proc/sys/fs/binfmt_misc/register
exec "\$@"
SH
  chmod 0755 "$inner"
  unshare --user --mount --pid --fork --propagation private "$inner" "$@" &
  local pid=$! tries=0 ours; ours=$(readlink /proc/self/ns/user)
  # the map can only be written once unshare has entered its new user namespace
  while [ "$(readlink "/proc/$pid/ns/user" 2>/dev/null)" = "$ours" ] && [ $tries -lt 200 ]; do sleep 0.05; tries=$((tries + 1)); done
  # as root in the parent namespace we may map ids 1:1 without /etc/subuid
  echo "0 0 65536" > "/proc/$pid/uid_map"
  echo "0 0 65536" > "/proc/$pid/gid_map"
  local rc=0
  wait "$pid" || rc=$?
  rm -f "$inner"
  return $rc
}
