#!/usr/bin/env bash
# The main job on embedded defaults: start the local Cluvio-compatible server,
# store demo credentials in a hub home inside the checkout (the user's own
# store is left alone), list the installed connectors, run the Cluvio
# connector into the default SQLite catalog there, then stop the server.
# Expects `hub` and `python` of one virtual environment first on PATH, as
# `make demo` arranges.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
export SECODA_HUB_HOME="$root/.hub-demo"
dashboards=${DEMO_DASHBOARDS:-25}
port_file="$SECODA_HUB_HOME/cluvio-server.port"
server_log="$SECODA_HUB_HOME/cluvio-server.log"

mkdir -p "$SECODA_HUB_HOME"
rm -f "$port_file"

echo "==> pip install ./connectors/cluvio"
python -m pip install --quiet "$root/connectors/cluvio"

python -m secoda_connector_cluvio.testserver \
  --port 0 --port-file "$port_file" --dashboards "$dashboards" >"$server_log" 2>&1 &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true' EXIT

# Wait up to 10 s for the server to write its port.
for _ in $(seq 100); do
  [ -s "$port_file" ] && break
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "the Cluvio-compatible server failed to start:" >&2
    cat "$server_log" >&2
    exit 1
  fi
  sleep 0.1
done
if [ ! -s "$port_file" ]; then
  echo "the Cluvio-compatible server did not start within 10 s; see $server_log" >&2
  exit 1
fi
base_url="http://127.0.0.1:$(cat "$port_file")"
echo "==> Cluvio-compatible server at $base_url with $dashboards dashboards"

echo "==> hub credentials set cluvio (demo account)"
hub credentials set cluvio email=demo@example.com \
  password=cluvio-demo-password "base_url=$base_url" --allow-base-url-host

echo "==> hub list"
hub list

echo "==> hub run cluvio --output $SECODA_HUB_HOME/upload"
hub run cluvio --output "$SECODA_HUB_HOME/upload"

echo
echo "The catalog is $SECODA_HUB_HOME/data/catalog.sqlite. Look around with:"
echo "  export SECODA_HUB_HOME=$SECODA_HUB_HOME"
echo "  $(command -v hub) runs"
echo "  $(command -v hub) catalog resources --type dashboard --limit 5"
