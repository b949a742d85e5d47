#!/usr/bin/env bash
# Runs the production bundles (migration, API, worker, fake Gemini) the way an operator would, signs a user in,
# sends a prompt and waits for the reply, then checks every process shuts down cleanly on SIGTERM. The API and the
# worker start with their tracing preload and the console exporter, and the prompt's spans must be in their output.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${SMOKE_PORT:-3917}"
GEMINI_PORT="${SMOKE_GEMINI_PORT:-3918}"
API="http://127.0.0.1:${PORT}"
export DATABASE_URL="${SMOKE_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/gemini_chat_smoke}"
export REDIS_KEY_PREFIX="smoke:$$:" LOG_LEVEL=warn
pids=()
cleanup() { for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT
json() { node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>console.log(JSON.parse(s)$1))"; }

node packages/api/dist/migrate.js
FAKE_GEMINI_PORT="$GEMINI_PORT" node packages/fakes/dist/fake-gemini.js >/dev/null & pids+=($!)
export GEMINI_BASE_URL="http://127.0.0.1:${GEMINI_PORT}" GEMINI_API_KEY=smoke # the API lists models, the worker replies
spans=$(mktemp -d)
PORT="$PORT" OTEL_TRACES_EXPORTER=console node --import ./packages/api/dist/tracing.js packages/api/dist/server.js >"$spans/api.out" & pids+=($!)
WORKER_METRICS_PORT=0 OTEL_TRACES_EXPORTER=console node --import ./packages/worker/dist/tracing.js packages/worker/dist/main.js >"$spans/worker.out" & pids+=($!)

for _ in $(seq 1 50); do curl -fs "$API/ready" >/dev/null && break; sleep 0.2; done
curl -fs "$API/ready" >/dev/null || { echo "production API did not become ready"; exit 1; }

number="+1415$((RANDOM % 800 + 200))$((RANDOM % 9000 + 1000))"
otp=$(curl -fs -X POST "$API/auth/signup" -H 'content-type: application/json' -d "{\"mobileNumber\":\"$number\"}" | json .otpChallenge.otp)
token=$(curl -fs -X POST "$API/auth/verify-otp" -H 'content-type: application/json' -d "{\"mobileNumber\":\"$number\",\"otp\":\"$otp\"}" | json .accessToken)
room=$(curl -fs -X POST "$API/chatroom" -H "authorization: Bearer $token" -H 'content-type: application/json' -d '{}' | json .id)
status=$(curl -fs -X POST "$API/chatroom/$room/message" -H "authorization: Bearer $token" -H 'content-type: application/json' \
  -H 'prefer: wait=20' -d '{"content":"smoke test"}' | json .reply.status)
[ "$status" = "completed" ] || { echo "reply status: $status"; exit 1; }

for pid in "${pids[@]}"; do kill -TERM "$pid"; done
for pid in "${pids[@]}"; do wait "$pid"; done
pids=()
for span in "api:POST /chatroom/:id/message" "worker:process generate-reply" "worker:chat "; do
  grep -q "name: '${span#*:}" "$spans/${span%%:*}.out" || { echo "no '${span#*:}' span in the ${span%%:*}'s trace output"; exit 1; }
done
rm -rf "$spans"
echo "production build: migrated, answered a prompt end to end (traced), and every process shut down cleanly"
