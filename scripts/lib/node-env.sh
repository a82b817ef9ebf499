# Sourced by scripts: puts a Node 24 first on PATH (installing it from the npm registry's `node`
# package when the machine's Node is older) and points node-gyp at that Node's own headers, so
# native addons are built for the Node that will load them.
STATION_TOOLS_DIR="${STATION_TOOLS_DIR:-/opt/station/tools}"
NODE_MAJOR_WANTED=24

node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

station_node_home() {
  # The `node` package puts the platform's build (bin/node plus include/node) in a nested package.
  find "$STATION_TOOLS_DIR/node$NODE_MAJOR_WANTED/node_modules/node/node_modules" -maxdepth 1 -type d -name 'node-linux-*' 2>/dev/null | head -n1
}

ensure_node() {
  local system_node; system_node=$(command -v node || true)
  if [ -n "$system_node" ] && [ "$(node_major "$system_node")" = "$NODE_MAJOR_WANTED" ] && [ -d "$(dirname "$system_node")/../include/node" ]; then
    export npm_config_nodedir="$(cd "$(dirname "$system_node")/.." && pwd)"
    return
  fi
  local home; home=$(station_node_home)
  if [ -z "$home" ] || [ ! -x "$home/bin/node" ]; then
    command -v npm >/dev/null || { echo "setup: npm is needed to install Node $NODE_MAJOR_WANTED" >&2; exit 1; }
    echo "setup: installing Node $NODE_MAJOR_WANTED from the npm registry into $STATION_TOOLS_DIR" >&2
    mkdir -p "$STATION_TOOLS_DIR/node$NODE_MAJOR_WANTED"
    npm install --no-save --prefix "$STATION_TOOLS_DIR/node$NODE_MAJOR_WANTED" "node@$NODE_MAJOR_WANTED" >/dev/null
    home=$(station_node_home)
  fi
  export PATH="$home/bin:$PATH"
  export npm_config_nodedir="$home"
}
