# Restarting the agent (systemctl restart station) must leave its nodes running, and the new agent
# must report them. Runs inside the booted station (nspawn) through the agent's own API. Where LXC
# cannot start the node engine's containers in this nspawn (cgroup v1 controllers are read-only in
# a container on this host), it falls back to what matters for the unit file: a busybox container
# started with lxc-start -d from inside station.service's own cgroup must survive the restart.
check_keep_nodes() {
  local token; token=$(in_container cat /var/lib/station/admin-token)
  local api="http://127.0.0.1:80/api/v1" lxcpath=/var/lib/station/lxc name=keep via=api
  local out
  out=$(in_container curl -s -m 120 -w '\n%{http_code}' -H "authorization: Bearer $token" -H 'content-type: application/json' \
    -d '{"name":"keep","template":"busybox","modules":[{"name":"loop","run":"while true; do sleep 1; done"}]}' "$api/nodes")
  if [ "$(echo "$out" | tail -n1)" != 201 ]; then
    note "node API create failed here ($(echo "$out" | head -n1 | jq -r '.error.message' 2>/dev/null)); falling back to lxc-start -d inside station.service's cgroup"
    via=cgroup; lxcpath=/var/lib/station-keep-test; name=keep-raw
    local agent; agent=$(in_container systemctl show -p MainPID --value station)
    in_container sh -c "lxc-create -P $lxcpath -n $name -t busybox >/dev/null 2>&1 && echo 'lxc.net.0.type = empty' >> $lxcpath/$name/config" || die "lxc-create failed"
    # join every cgroup hierarchy of the agent, then start the container from there
    in_container sh -c "for l in \$(cut -d: -f2,3 /proc/$agent/cgroup | tr ' ' '_'); do c=\${l%%:*}; p=\${l#*:}; d=/sys/fs/cgroup/\${c#name=}; [ -z \"\$c\" ] && d=/sys/fs/cgroup/unified; [ -d \"\$d\$p\" ] && { echo \$\$ > \"\$d\$p/cgroup.procs\"; } 2>/dev/null; done; lxc-start -P $lxcpath -n $name -d" || die "lxc-start -d failed"
    note "container cgroup of its monitor: $(in_container sh -c "grep -m1 systemd /proc/\$(pgrep -f 'lxc monitor.*$name' | head -n1)/cgroup")"
  fi
  local pid_before; pid_before=$(in_container lxc-info -P "$lxcpath" -n "$name" -p -H)
  # where the node lives: outside station.service's cgroup LXC's own escape protects it; inside,
  # only KillMode=process does
  note "node init cgroup: $(in_container sh -c "grep -E '^0::|name=systemd' /proc/$pid_before/cgroup | head -n1"); agent: $(in_container sh -c "grep -E '^0::|name=systemd' /proc/\$(systemctl show -p MainPID --value station)/cgroup | head -n1")"
  local agent_before; agent_before=$(in_container systemctl show -p MainPID --value station)
  note "node $name running, init pid $pid_before; agent pid $agent_before; systemctl restart station"
  in_container systemctl restart station
  local start; start=$(now_ms)
  # As long as a first boot may take (the caller's timeout): a slow or loaded box restarts slowly too.
  wait_ready "${timeout_s:-420}" "$start" fetch_inside || { explain_not_ready; die "the agent did not come back within ${timeout_s:-420}s after a restart (load average $(cut -d" " -f1-3 /proc/loadavg))"; }
  local agent_after; agent_after=$(in_container systemctl show -p MainPID --value station)
  [ "$agent_after" != "$agent_before" ] || die "the agent was not restarted (pid $agent_after)"
  local pid_after; pid_after=$(in_container lxc-info -P "$lxcpath" -n "$name" -p -H)
  [ "$pid_after" = "$pid_before" ] || die "the node's init changed across the agent restart ($pid_before -> ${pid_after:-gone}): it was killed"
  if [ $via = api ]; then
    local state
    state=$(in_container curl -s -m 60 -H "authorization: Bearer $token" "$api/nodes/keep" | jq -r '.state // .observed.state // empty')
    [ "$state" = running ] || die "the restarted agent reports node keep as '$state', not running"
    note "after restart: agent pid $agent_after, node init pid $pid_after (unchanged), the agent reports it $state"
    in_container curl -s -m 60 -X DELETE -H "authorization: Bearer $token" "$api/nodes/keep?volumes=delete" >/dev/null || true
  else
    note "after restart: agent pid $agent_after, container init pid $pid_after (unchanged, still RUNNING)"
    in_container lxc-stop -k -P "$lxcpath" -n "$name" >/dev/null 2>&1 || true
  fi
}
