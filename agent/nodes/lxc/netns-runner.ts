// A Runner that runs each program inside a named network namespace the way LXC needs it.
//
// `ip netns exec` (exec.ts's `netns` option) remounts /sys for the namespace, which hides the
// cgroup mounts under /sys/fs/cgroup: containers started that way get no cgroups (no limits, no
// stats). `nsenter --net` alone keeps the host's /sys, where LXC does not find the namespace's
// bridge. So: enter the network namespace, make a private mount namespace, mount a sysfs of the
// namespace and mount the host's cgroup hierarchies again on top of it, then exec the program.
// LXC's command sockets are abstract unix sockets (per network namespace): every lxc-* call for a
// container must go through the same namespace.
import { exec, type Runner } from '../../exec.ts';

const SCRIPT = [
  "m=$(grep -E '^[^ ]+ /sys/fs/cgroup[^ ]* (cgroup2?|tmpfs) ' /proc/self/mounts)",
  'mount -t sysfs sysfs /sys || exit 125',
  'printf "%s\\n" "$m" | while read -r src tgt type opts rest; do',
  '  [ -n "$tgt" ] || continue',
  '  mkdir -p "$tgt" 2>/dev/null; mount -t "$type" -o "$opts" "$src" "$tgt" || exit 125',
  'done || exit 125',
  'exec "$@"',
].join('\n');

export function netnsArgv(netns: string, argv: readonly string[]): string[] {
  if (!/^[A-Za-z0-9_.-]+$/.test(netns)) throw new Error(`invalid network namespace name ${JSON.stringify(netns)}`);
  return ['nsenter', `--net=/run/netns/${netns}`, 'unshare', '-m', '--propagation', 'slave', 'sh', '-c', SCRIPT, 'sh', ...argv];
}

export function netnsRunner(netns: string, base: Runner = exec): Runner {
  return (argv, options = {}) => {
    const { netns: _ignored, ...rest } = options;
    return base(netnsArgv(netns, argv), rest);
  };
}
