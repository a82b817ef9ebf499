#!/usr/bin/env bash
# Run by scripts/fresh-box inside the fresh root, with a private network: `./scripts/dev up` as a
# newcomer types it, then the checks a newcomer would make from another terminal: the status API
# answers, and `station status` (the /usr/local/bin link) works as the README says.
cd "$(dirname "$0")/../.."
. scripts/lib/fail-loudly.sh

log=/tmp/station-up.log
station_step "start ./scripts/dev up"
ip link set lo up 2>/dev/null || true
./scripts/dev up >"$log" 2>&1 &
up_pid=$!
stop_up() { kill "$up_pid" 2>/dev/null || true; wait "$up_pid" 2>/dev/null || true; }
trap stop_up EXIT

station_step "wait for /api/v1/status"
started=$(date +%s)
until curl -sf -m 5 -o /tmp/status.json http://127.0.0.1:8088/api/v1/status; do
  if ! kill -0 "$up_pid" 2>/dev/null; then
    echo "fresh-box: ./scripts/dev up exited before the agent answered; its last lines:" >&2
    tail -n 30 "$log" | sed 's/^/    | /' >&2
    exit 1
  fi
  if [ $(( $(date +%s) - started )) -ge 300 ]; then
    echo "fresh-box: no answer on /api/v1/status within 300 s; the last lines of ./scripts/dev up:" >&2
    tail -n 30 "$log" | sed 's/^/    | /' >&2
    exit 1
  fi
  sleep 1
done
echo "fresh-box: /api/v1/status answered $(( $(date +%s) - started ))s after ./scripts/dev up started: $(head -c 300 /tmp/status.json)"

station_step "no program missing"
# A subsystem that could not run a program (spawn … ENOENT) means a Debian package the setup lacks.
if grep -o '[^"]*ENOENT[^"]*' /tmp/status.json; then
  echo "fresh-box: a program the station runs is missing on a fresh box (above); add its Debian package to scripts/lib/debian-packages.txt" >&2
  exit 1
fi

station_step "station status (the PATH link)"
[ -L /usr/local/bin/station ] || { echo "fresh-box: ./scripts/dev up did not link /usr/local/bin/station" >&2; exit 1; }
PATH=/usr/local/bin:/usr/bin:/bin station status
