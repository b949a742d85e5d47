#!/usr/bin/env bash
# Starts the production bundle of the API, waits for /ready, then checks it shuts down cleanly on SIGTERM.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${SMOKE_PORT:-3917}"
node packages/api/dist/migrate.js
PORT="$PORT" LOG_LEVEL=warn node packages/api/dist/server.js &
pid=$!
ready=""
for _ in $(seq 1 50); do
  if curl -fs "http://127.0.0.1:${PORT}/ready" >/dev/null; then ready=yes; break; fi
  sleep 0.2
done
if [ -z "$ready" ]; then echo "production API did not become ready"; kill "$pid" || true; exit 1; fi
curl -fs "http://127.0.0.1:${PORT}/openapi.json" >/dev/null
kill -TERM "$pid"
wait "$pid"
echo "production API: ready, served the spec, shut down cleanly"
