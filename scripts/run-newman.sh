#!/usr/bin/env bash
# Runs the Postman collection (postman/gemini-chat.postman_collection.json) with newman against the real product:
# the production bundles (migration, API, worker, fake Gemini, and the fake Stripe when built) on loopback, against
# the local Postgres and Redis, in their own database and Redis key prefix. Exits non-zero on any failed assertion;
# the processes are always stopped.
#
#   pnpm build && bash scripts/run-newman.sh
# NEWMAN_BUILD=1 builds first; NEWMAN_BAIL=0 runs every request; NEWMAN_STRIPE=0 runs without billing (the
# collection then accepts 503 BILLING_NOT_CONFIGURED); NEWMAN_DATABASE_URL / NEWMAN_REDIS_URL move the data.
set -euo pipefail
cd "$(dirname "$0")/.."

COLLECTION=postman/gemini-chat.postman_collection.json
export DATABASE_URL="${NEWMAN_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/gemini_chat_newman}"
export REDIS_URL="${NEWMAN_REDIS_URL:-redis://127.0.0.1:6379}"
export REDIS_KEY_PREFIX="newman:$$:"
export NODE_ENV=development HOST=127.0.0.1 LOG_LEVEL="${NEWMAN_LOG_LEVEL:-warn}" DATABASE_SCHEMA=""
# The collection signs up, reads the OTP from the response and sends a couple of prompts: a roomy quota (not
# unlimited, so the RateLimit-* headers are exercised) and roomy auth limits.
export OTP_DELIVERY=response QUOTA_BASIC_DAILY=100 QUOTA_PRO_DAILY=1000 AUTH_RATE_LIMIT_PER_IP=1000 AUTH_RATE_LIMIT_PER_NUMBER=1000

LOG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/newman-run.XXXXXX")"
pids=()
cleanup() {
  local status=$?
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 50); do
    local alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  if [ "$status" != 0 ]; then
    for log in "$LOG_DIR"/*.log; do
      [ -s "$log" ] && { echo "--- $(basename "$log") (last lines)"; tail -n 20 "$log"; }
    done
  fi
  # This run's Redis keys (best effort: redis-cli may be missing).
  if command -v redis-cli >/dev/null 2>&1; then
    redis-cli -u "$REDIS_URL" --scan --pattern "${REDIS_KEY_PREFIX}*" 2>/dev/null | xargs -r -n 500 redis-cli -u "$REDIS_URL" del >/dev/null 2>&1 || true
  fi
  rm -rf "$LOG_DIR"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Three distinct free ports at once (holding all three sockets until each is known, so none is handed out twice).
free_ports() {
  node -e "const net=require('net');const ss=[0,1,2].map(()=>net.createServer());let n=0;
    ss.forEach((s)=>s.listen(0,'127.0.0.1',()=>{if(++n===ss.length){console.log(ss.map((x)=>x.address().port).join(' '));ss.forEach((x)=>x.close());}}));"
}

if [ "${NEWMAN_BUILD:-0}" = 1 ]; then pnpm build >/dev/null; fi
for bundle in packages/api/dist/migrate.js packages/api/dist/server.js packages/worker/dist/main.js packages/fakes/dist/fake-gemini.js; do
  [ -f "$bundle" ] || { echo "run-newman: $bundle is missing: run pnpm build (or NEWMAN_BUILD=1)"; exit 1; }
done

read -r PORT GEMINI_PORT STRIPE_PORT < <(free_ports)
API="http://127.0.0.1:${PORT}"

node packages/api/dist/migrate.js >"$LOG_DIR/migrate.log" 2>&1 || { cat "$LOG_DIR/migrate.log"; exit 1; }

FAKE_GEMINI_PORT="$GEMINI_PORT" node packages/fakes/dist/fake-gemini.js >"$LOG_DIR/fake-gemini.log" 2>&1 & pids+=($!)

billing_required=false
if [ "${NEWMAN_STRIPE:-1}" = 1 ] && [ -f packages/fakes/dist/fake-stripe.js ]; then
  # Billing against the local fake Stripe (test-mode key, webhooks signed back to this API).
  export STRIPE_SECRET_KEY=sk_test_newman STRIPE_WEBHOOK_SECRET="whsec_newman_$$_local" STRIPE_API_BASE_URL="http://127.0.0.1:${STRIPE_PORT}"
  FAKE_STRIPE_PORT="$STRIPE_PORT" FAKE_STRIPE_WEBHOOK_SECRET="$STRIPE_WEBHOOK_SECRET" FAKE_STRIPE_WEBHOOK_URL="${API}/webhook/stripe" \
    node packages/fakes/dist/fake-stripe.js >"$LOG_DIR/fake-stripe.log" 2>&1 & pids+=($!)
  billing_required=true
else
  unset STRIPE_SECRET_KEY STRIPE_WEBHOOK_SECRET STRIPE_API_BASE_URL
fi

# Both talk to the fake Gemini: the worker for replies, the API for its model list (GET /models).
export GEMINI_BASE_URL="http://127.0.0.1:${GEMINI_PORT}" GEMINI_API_KEY=newman
PORT="$PORT" node packages/api/dist/server.js >"$LOG_DIR/api.log" 2>&1 & pids+=($!)
WORKER_METRICS_PORT=0 node packages/worker/dist/main.js >"$LOG_DIR/worker.log" 2>&1 & pids+=($!)

for _ in $(seq 1 100); do curl -fs "$API/ready" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fs "$API/ready" >/dev/null || { echo "run-newman: the API did not become ready at $API"; exit 1; }

# --working-dir: the upload's file part (postman/fixtures/hello.txt) is a path relative to the repository root.
bail=(--bail)
[ "${NEWMAN_BAIL:-1}" = 0 ] && bail=()
echo "run-newman: API on $API (billing against the fake Stripe: $billing_required)"
pnpm exec newman run "$COLLECTION" \
  --env-var "baseUrl=$API" \
  --env-var "billingRequired=$billing_required" \
  --working-dir "$PWD" \
  --timeout-request 30000 \
  --reporters cli \
  --color off \
  "${bail[@]}"
