# Boots for image-test: QEMU (the whole disk image, by its own boot loader) and systemd-nspawn (the
# root file system only, much faster). Every process started here is ended by its pid on exit.
_pids=()
_cleanup() {
  local pid
  for pid in "${_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  sleep 1
  for pid in "${_pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  [ -n "${_tmp:-}" ] && rm -rf "$_tmp"
  return 0
}
trap _cleanup EXIT
_tmp=$(mktemp -d /tmp/station-image-test.XXXXXX)

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
now_ms() { date +%s%3N; }

# wait_ready URL-PREFIX-CMD...: polls "$@ /api/v1/ready" until it answers 200; prints seconds waited.
wait_ready() { # $1 timeout s, $2 start ms, rest: a command that fetches a path given as last arg
  local timeout_s=$1 start=$2; shift 2
  while :; do
    # the last answer is kept: when the wait ends without ready, it says which subsystem held it up
    if "$@" /api/v1/ready > "$_tmp/ready" 2>/dev/null && [ "$(head -n1 "$_tmp/ready")" = 200 ]; then break; fi
    if [ $(( ($(now_ms) - $start) / 1000 )) -ge "$timeout_s" ]; then return 1; fi
    if [ -n "${_guest_pid:-}" ] && ! kill -0 "$_guest_pid" 2>/dev/null; then return 1; fi
    sleep 1
  done
}

# check_status FETCH...: GET /api/v1/status; checks name, version, readiness; prints a summary line.
# ready_or_die FETCH TIMEOUT-S START-MS WHAT LOG: waits for /api/v1/ready through FETCH; when it never
# comes, shows the console's end and why, and dies. Sets ready_s (seconds from START-MS).
ready_or_die() {
  local fetch=$1 timeout_s=$2 start=$3 what=$4 log=$5
  if ! wait_ready "$timeout_s" "$start" "$fetch"; then
    tail -n 40 "$log" | sed 's/^/    | /'
    explain_not_ready
    die "the station did not become ready within ${timeout_s}s (load average $(cut -d' ' -f1-3 /proc/loadavg))"
  fi
  ready_s=$(echo "scale=1; ($(now_ms) - $start) / 1000" | bc)
  note "ready ${ready_s}s after $what started"
}

check_status() {
  fetch_answer 60 "$@" /api/v1/status
  local out; out=$(tail -n +2 "$_tmp/answer")
  echo "$out" > "$_tmp/status.json"
  local name version ready
  name=$(jq -r .name "$_tmp/status.json"); version=$(jq -r .version "$_tmp/status.json"); ready=$(jq -r .ready "$_tmp/status.json")
  [ "$ready" = true ] || die "status says not ready: $out"
  [[ "$name" =~ ^station-[0-9a-f]{4}$ ]] || die "station name $name is not the first-boot name station-XXXX"
  [ "$version" = "$(jq -r .version "$IMAGE_ROOT/package.json")" ] || die "agent version $version differs from package.json"
  note "status: name $name, version $version, health $(jq -r .health "$_tmp/status.json"), subsystems $(jq -r '[.subsystems[] | "\(.name)=\(.state)"] | join(" ")' "$_tmp/status.json")"
}

# fetch_answer SECONDS FETCH... PATH: the first answer of any status within SECONDS, into
# $_tmp/answer (status line, then body). A slow guest may miss one 5 s request; that is retried,
# and only a guest that never answers stops the test, saying so.
fetch_answer() {
  local limit=$1; shift
  local path=${*: -1} start; start=$(now_ms)
  local last=""
  while :; do
    if "$@" > "$_tmp/answer" 2>"$_tmp/answer.err"; then return 0; else last="fetch exited $? ($(head -c 200 "$_tmp/answer.err"))"; fi
    if [ $(( ($(now_ms) - start) / 1000 )) -ge "$limit" ]; then die "no answer from $path within ${limit}s; last try: $last"; fi
    sleep 1
  done
}

# After a wait for ready that ran out: what the station said last, and its own log, so a failure
# under load says which subsystem held it up (best effort: the guest may not answer at all).
explain_not_ready() {
  if [ -s "$_tmp/ready" ]; then note "last answer of /api/v1/ready: $(tr '\n' ' ' < "$_tmp/ready" | head -c 600)"; else note "/api/v1/ready never answered"; fi
  note "the station's journal (last 30 lines):"
  in_container journalctl -u station -u station-firstboot --no-pager -n 30 2>&1 | sed 's/^/    | /' || note "(the guest did not answer for its journal)"
}

# The hardware report arrives (detection runs in the background, systeminformation in a child
# process): GET /api/v1/hardware answers at once, 503 with Retry-After until the first report,
# then 200 with this machine's CPU, memory and disks. Prints when it arrived.
check_hardware() { # $@ fetch function
  local start; start=$(now_ms)
  local code waited
  while :; do
    fetch_answer 60 "$@" /api/v1/hardware
    code=$(head -n1 "$_tmp/answer")
    waited=$(echo "scale=1; ($(now_ms) - $start) / 1000" | bc)
    [ "$code" = 200 ] && break
    [ "$code" = 503 ] || die "GET /api/v1/hardware answered $code: $(tail -n +2 "$_tmp/answer" | head -c 300)"
    if [ "$(( ($(now_ms) - start) / 1000 ))" -ge 300 ]; then die "no hardware report after ${waited}s (last: $(tail -n +2 "$_tmp/answer" | head -c 300))"; fi
    sleep 2
  done
  tail -n +2 "$_tmp/answer" > "$_tmp/hardware.json"
  [ "$(jq -r '.cpu.cores' "$_tmp/hardware.json")" -ge 1 ] || die "hardware report without CPU cores: $(head -c 300 "$_tmp/hardware.json")"
  note "hardware report arrived ${waited}s after the status check ($(jq -r 'if .partial then "partial: \(.partialReasons | join("; "))" else "complete" end' "$_tmp/hardware.json")): $(jq -r '"\(.board.model // "?"), \(.cpu.cores) cores, \(.memory.totalBytes / 1048576 | floor) MiB, disks \([.disks[].name] | join(" "))"' "$_tmp/hardware.json")"
  echo "hardware-report-seconds: $waited"
}

# fetch over the forwarded port: prints the status code, then the body
fetch_host() { curl -s -m 5 -o "$_tmp/body" -w '%{http_code}\n' "http://127.0.0.1:$_port$1" && cat "$_tmp/body"; }

boot_qemu() { # $1 image, $2 timeout s, $3 keep-nodes check
  local img=$1 timeout_s=$2 keep_nodes=$3
  [ -f "$img" ] || die "no image at $img: run ./scripts/dev image first"
  command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 is missing (Debian package qemu-system-x86)"
  steps $(( keep_nodes ? 5 : 4 ))
  _qga="$_tmp/qga.sock"
  _port=$(free_port)
  local log="$IMAGE_BUILD/amd64/qemu-serial.log"
  step "booting $img under QEMU (TCG), port 80 -> 127.0.0.1:$_port; serial log $log"
  local start; start=$(now_ms)
  # The guest writes to a temporary overlay 1 GiB larger than the image: the image stays a first
  # boot, and first boot has room to grow the root partition into (as on a larger SD card).
  local disk="$_tmp/disk.qcow2" img_bytes; img_bytes=$(stat -c %s "$img")
  qemu-img create -q -f qcow2 -b "$img" -F raw "$disk" $(( img_bytes + 1024 * 1024 * 1024 ))
  # restrict=on: the guest reaches nothing outside (no traffic off the machine); hostfwd still works.
  qemu-system-x86_64 -machine q35 -accel tcg -cpu max -smp 2 -m 1536 \
    -drive "file=$disk,format=qcow2,if=virtio" \
    -netdev "user,id=lan,restrict=on,hostfwd=tcp:127.0.0.1:$_port-:80" -device virtio-net-pci,netdev=lan \
    -chardev "socket,path=$_qga,server=on,wait=off,id=qga0" -device virtio-serial -device virtserialport,chardev=qga0,name=org.qemu.guest_agent.0 \
    -display none -serial "file:$log" -monitor none -no-reboot &
  _guest_pid=$!
  _pids+=("$_guest_pid")
  step "waiting for /api/v1/ready (up to ${timeout_s}s)"
  # inside the guest through the QEMU guest agent; the API through the guest's own loopback
  in_container() { node "$here/lib/qga.ts" "$_qga" "$@"; }
  fetch_inside() { in_container sh -c "curl -s -m 5 -o /tmp/.station-test-body -w '%{http_code}\n' 'http://127.0.0.1:80$1' && cat /tmp/.station-test-body"; }
  local ready_s
  ready_or_die fetch_host "$timeout_s" "$start" QEMU "$log"
  step "checking /api/v1/status"
  check_status fetch_host
  check_hardware fetch_host
  grep -a -m1 'firstboot: this station is' "$log" | sed 's/^.*firstboot:/        first boot:/' || true
  grep -aq 'Reached target.*Multi-User\|station-[0-9a-f]\{4\} login:' "$log" && note "console shows the login prompt"
  local on_disk in_ram root_bytes
  on_disk=$(in_container sh -c 'find /var/log/journal -name "*.journal" 2>/dev/null | wc -l')
  in_ram=$(in_container sh -c 'find /run/log/journal -name "*.journal" 2>/dev/null | wc -l')
  [ "$on_disk" = 0 ] && [ "$in_ram" -gt 0 ] || die "journald must keep logs in RAM only (on disk: $on_disk, in /run: $in_ram)"
  note "journal: $in_ram file(s) in /run/log/journal, none on disk (Storage=volatile)"
  root_bytes=$(in_container df -B1 --output=size / | tail -n1 | tr -d ' ')
  [ "$root_bytes" -gt "$img_bytes" ] || die "first boot did not grow the root file system to the disk ($root_bytes bytes on a disk of $((img_bytes + 1073741824)))"
  note "first boot grew the root file system to $(human_size "$root_bytes") (image $(human_size "$img_bytes"), disk 1 GiB larger)"
  note "admin token: $(in_container stat -c '%a %U %n' /var/lib/station/admin-token)"
  if [ "$keep_nodes" = 1 ]; then
    step "restarting the agent keeps nodes running (inside the guest, real kernel and cgroups)"
    . "$here/lib/keep-nodes.sh"
    check_keep_nodes
  fi
  step "done"
  echo "boot-to-ready: ${ready_s} s (QEMU TCG, 2 vCPU, 1.5 GiB)"
  echo "{\"mode\":\"qemu\",\"bootToReadySeconds\":$ready_s,\"image\":\"$img\",\"imageBytes\":$(stat -c %s "$img")}"
}

# nspawn: a shell in the booted container (all its namespaces)
in_container() { nsenter -t "$_leader" -a "$@"; }
fetch_inside() { in_container curl -s -m 5 -o /tmp/.station-test-body -w '%{http_code}\n' "http://127.0.0.1:80$1" && in_container cat /tmp/.station-test-body; }

boot_nspawn() { # $1 rootfs, $2 timeout s, $3 keep-nodes check
  local root=$1 timeout_s=$2 keep_nodes=$3
  [ -d "$root/etc/systemd" ] || die "no root file system at $root: run ./scripts/dev image first"
  steps $(( keep_nodes ? 5 : 4 ))
  local name="station-test-$$" log="$_tmp/nspawn.log"
  step "booting $root under systemd-nspawn (private network, volatile overlay)"
  local start; start=$(now_ms)
  SYSTEMD_NSPAWN_TMPFS_TMP=0 systemd-nspawn -q -b -D "$root" -M "$name" --register=no --keep-unit --private-network \
    --volatile=overlay --capability=all --property=DeviceAllow='char-* rwm' >"$log" 2>&1 &
  _guest_pid=$!
  _pids+=("$_guest_pid")
  local tries=0
  while _leader=$(cat "/proc/$_guest_pid/task/$_guest_pid/children" 2>/dev/null | awk '{print $1}'); [ -z "$_leader" ]; do
    sleep 0.2; tries=$((tries + 1)); [ $tries -lt 100 ] || { cat "$log"; die "nspawn did not start"; }
  done
  step "waiting for /api/v1/ready inside (up to ${timeout_s}s)"
  local ready_s
  ready_or_die fetch_inside "$timeout_s" "$start" nspawn "$log"
  step "checking /api/v1/status"
  check_status fetch_inside
  check_hardware fetch_inside
  local on_disk in_ram
  on_disk=$(in_container sh -c 'find /var/log/journal -name "*.journal" 2>/dev/null | wc -l')
  in_ram=$(in_container sh -c 'find /run/log/journal -name "*.journal" 2>/dev/null | wc -l')
  [ "$on_disk" = 0 ] && [ "$in_ram" -gt 0 ] || die "journald must keep logs in RAM only (on disk: $on_disk, in /run: $in_ram)"
  note "journal: $in_ram file(s) in /run/log/journal, none on disk (Storage=volatile)"
  note "admin token: $(in_container stat -c '%a %U %n' /var/lib/station/admin-token)"
  if [ "$keep_nodes" = 1 ]; then
    step "restarting the agent keeps nodes running"
    . "$here/lib/keep-nodes.sh"
    check_keep_nodes
  fi
  step "done"
  echo "{\"mode\":\"nspawn\",\"bootToReadySeconds\":$ready_s}"
  in_container systemctl poweroff --no-block >/dev/null 2>&1 || true
  for _ in $(seq 1 20); do kill -0 "$_guest_pid" 2>/dev/null || break; sleep 0.5; done
}
