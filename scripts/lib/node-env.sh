# Sourced by scripts: puts a Node 24 first on PATH, with its headers and an npm from the registry
# that runs on it, and points node-gyp at those headers, so native addons are built for the Node
# that will load them.
#
# Where the machine has no Node 24, it is installed from the npm registry's `node` package into
# $STATION_TOOLS_DIR. That needs some npm to start with; a fresh Debian 12 has none, so Debian's
# `nodejs` and `npm` are installed as the bootstrap. Debian's npm is not used afterwards: its
# node-gyp links addons against Debian's libnode (Node 18), and such an addon crashes Node 24.
STATION_TOOLS_DIR="${STATION_TOOLS_DIR:-/opt/station/tools}"
NODE_MAJOR_WANTED=24
# npm 11 warns on every call that `nodedir` (which node-gyp needs here) is an unknown setting.
NPM_MAJOR_WANTED=10

node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

station_node_prefix() { echo "$STATION_TOOLS_DIR/node$NODE_MAJOR_WANTED"; }

# The `node` package puts the platform's build (bin/node plus include/node) in a nested package.
# Prints its directory, or nothing when it is not installed (never fails: callers test the output).
station_node_home() {
  local dir
  for dir in "$(station_node_prefix)"/node_modules/node/node_modules/node-linux-*; do
    if [ -x "$dir/bin/node" ] && [ -d "$dir/include/node" ]; then echo "$dir"; return 0; fi
  done
  return 0
}

# npm and npx from the registry's npm package, linked as a global install links them (npm's own
# bin/npm shell script looks for npm beside the node binary, which is not where it is here).
station_npm_bin() { echo "$(station_node_prefix)/bin"; }
station_npm_major() { sed -n 's/^ *"version": *"\([0-9]*\)\..*/\1/p' "$(station_node_prefix)/node_modules/npm/package.json" 2>/dev/null | head -n1; }
_link_npm() {
  local prefix; prefix=$(station_node_prefix)
  mkdir -p "$prefix/bin"
  ln -sfn ../node_modules/npm/bin/npm-cli.js "$prefix/bin/npm"
  ln -sfn ../node_modules/npm/bin/npx-cli.js "$prefix/bin/npx"
}

# Some npm to fetch Node 24 with: the machine's, else Debian's packages.
_bootstrap_npm() {
  if command -v npm >/dev/null; then return 0; fi
  if ! command -v apt-get >/dev/null; then
    echo "setup: cannot install Node $NODE_MAJOR_WANTED: this machine has no npm and no apt-get to install one" >&2
    return 1
  fi
  echo "setup: no npm on this machine; installing Debian's nodejs and npm to fetch Node $NODE_MAJOR_WANTED with" >&2
  local log; log=$(mktemp)
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm; } >"$log" 2>&1; then
    echo "setup: installing Debian's nodejs and npm failed; apt-get said:" >&2
    tail -n 5 "$log" | sed 's/^/setup:   /' >&2
    rm -f "$log"
    return 1
  fi
  rm -f "$log"
}

_install_node_from_registry() {
  local prefix; prefix=$(station_node_prefix)
  _bootstrap_npm || return 1
  echo "setup: installing Node $NODE_MAJOR_WANTED and npm $NPM_MAJOR_WANTED from the npm registry into $prefix" >&2
  mkdir -p "$prefix"
  local log; log=$(mktemp)
  if ! npm install --no-save --no-package-lock --no-audit --no-fund --prefix "$prefix" "node@$NODE_MAJOR_WANTED" "npm@$NPM_MAJOR_WANTED" >"$log" 2>&1; then
    echo "setup: could not install Node $NODE_MAJOR_WANTED from the npm registry (is the registry reachable?); npm said:" >&2
    tail -n 8 "$log" | sed 's/^/setup:   /' >&2
    rm -f "$log"
    return 1
  fi
  rm -f "$log"
  if [ -z "$(station_node_home)" ]; then
    echo "setup: npm installed the node package, but no Node binary with headers is under $prefix/node_modules/node" >&2
    return 1
  fi
  _link_npm
}

ensure_node() {
  local system_node; system_node=$(command -v node || true)
  if [ -n "$system_node" ] && [ "$(node_major "$system_node")" = "$NODE_MAJOR_WANTED" ] && [ -d "$(dirname "$system_node")/../include/node" ] && command -v npm >/dev/null; then
    npm_config_nodedir="$(cd "$(dirname "$system_node")/.." && pwd)"
    export npm_config_nodedir
    return 0
  fi
  local home; home=$(station_node_home)
  if [ -z "$home" ] || [ ! -x "$(station_npm_bin)/npm" ] || [ "$(station_npm_major)" != "$NPM_MAJOR_WANTED" ]; then
    _install_node_from_registry || return 1
    home=$(station_node_home)
  fi
  export PATH="$home/bin:$(station_npm_bin):$PATH"
  export npm_config_nodedir="$home"
  local got; got=$(node_major "$home/bin/node")
  if [ "$got" != "$NODE_MAJOR_WANTED" ]; then
    echo "setup: $home/bin/node is Node $got, not $NODE_MAJOR_WANTED" >&2
    return 1
  fi
}
