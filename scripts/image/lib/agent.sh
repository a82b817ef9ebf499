# The agent as it runs on the station: the compiled dist/ tree, package.json (the version) and the
# production npm packages (npm ci --omit=dev), with native addons built for the image's Node 24.
stage_agent() { # $1 arch, $2 staging dir
  local arch=$1 stage=$2
  rm -rf "$stage"
  mkdir -p "$stage"
  # Compiled straight into the staging dir: the work tree's dist/ may be in use by running tests.
  (cd "$IMAGE_ROOT" && npx --no-install tsc -p tsconfig.build.json --outDir "$stage/dist" 2>&1 | grep -v 'Unknown .* config' || true)
  [ -f "$stage/dist/agent/main.js" ] || die "the agent did not compile (npx tsc -p tsconfig.build.json)"
  cp -a "$IMAGE_ROOT/package.json" "$IMAGE_ROOT/package-lock.json" "$stage/"
  [ -d "$IMAGE_ROOT/api/web" ] && { mkdir -p "$stage/api"; cp -a "$IMAGE_ROOT/api/web" "$stage/api/"; }
  # Foreign arch: packages for that CPU, install scripts skipped (they would build native addons
  # for this machine's CPU). Only the GPIO addon (epoll, loaded on demand) is then missing.
  local npm_arch=(); [ "$arch" != "$(host_arch)" ] && npm_arch=(--cpu="$(arch_node "$arch")" --os=linux --ignore-scripts)
  # npm_config_nodedir (set by ensure_node) points node-gyp at Node 24's own headers.
  (cd "$stage" && npm ci --omit=dev --no-audit --no-fund "${npm_arch[@]}" >npm.log 2>&1) || { cat "$stage/npm.log" >&2; die "npm ci --omit=dev failed"; }
  rm -f "$stage/npm.log"
  if [ "$arch" = "$(host_arch)" ]; then
    (cd "$stage" && node -e "require('epoll')") || die "native addon epoll does not load in Node $(node --version)"
  fi
}

# The Node 24 binary the project uses (scripts/lib/node-env.sh), for the image's arch.
node_binary() { # $1 arch
  local arch=$1
  if [ "$arch" = "$(host_arch)" ]; then command -v node; return; fi
  # the same Node release for the other CPU: the npm registry's node-linux-<cpu> package
  local version; version=$(node -p 'process.versions.node')
  local dir="$IMAGE_BUILD/node-$arch-$version"
  if [ ! -x "$dir/package/bin/node" ]; then
    mkdir -p "$dir"
    (cd "$dir" && npm pack --silent "node-linux-$(arch_node "$arch")@$version" >/dev/null && tar -xzf node-linux-*.tgz && rm -f node-linux-*.tgz)
  fi
  echo "$dir/package/bin/node"
}
