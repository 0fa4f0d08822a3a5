#!/usr/bin/env bash
# Start the action server and the Rasa server in the foreground; Ctrl-C stops both cleanly.
set -eu
ACTION_PORT=${ACTION_PORT:-5055}
RASA_PORT=${RASA_PORT:-5005}
mkdir -p var
# Secrets (knowledge/secret_files.py): the HTTP API's JWT key (COACH_JWT_SECRET, else var/jwt_secret) and the action
# server's header secret (COACH_ACTION_SECRET, else var/action_secret), each made once, owner-only. Both servers read
# them themselves: no secret is ever on a command line. CORS (COACH_CORS_ORIGINS) and TLS (COACH_TLS_CERT,
# COACH_TLS_KEY): bot/start.py, README "Security and privacy".
export RASA_TELEMETRY_ENABLED=false  # no telemetry or crash reports (with message data) leave the machine
MODEL=$(ls -t var/models/*.tar.gz 2>/dev/null | head -1 || true)
if [ -z "$MODEL" ]; then
  echo "No trained model in var/models: run \`make train\` (or \`make run\`, which trains when needed)." >&2; exit 1
fi
if ! gzip -t "$MODEL" 2>/dev/null; then
  echo "The model $MODEL is damaged: delete it and run \`make train\`." >&2; exit 1
fi
sed "s#localhost:5055#localhost:${ACTION_PORT}#" bot/endpoints.yml > var/endpoints.yml

pids=()
stop() {
  trap - INT TERM EXIT
  echo; echo "Stopping..."
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "Stopped."
}
trap stop INT TERM EXIT

# Action server: localhost only (ACTION_HOST to change), shared-secret header required (actions/server.py).
.venv/bin/python -m actions.server --port "$ACTION_PORT" &
pids+=($!)
# Rasa, started the project's one way (bot/start.py): patches checked and installed, HTTP API with a JWT only.
.venv/bin/python -m bot.start run --port "$RASA_PORT" --model "$MODEL" --endpoints var/endpoints.yml --credentials bot/credentials.yml &
pids+=($!)

SCHEME=http; CURL_TLS=()
if [ -n "${COACH_TLS_CERT:-}" ]; then SCHEME=https; CURL_TLS=(-k); fi
for _ in $(seq 1 120); do
  curl -fs "${CURL_TLS[@]}" "${SCHEME}://localhost:${RASA_PORT}/" >/dev/null 2>&1 && curl -fs "http://127.0.0.1:${ACTION_PORT}/health" >/dev/null 2>&1 && break
  sleep 1
done
scripts/addresses.sh "$RASA_PORT"  # the addresses to open (https with COACH_TLS_CERT), the phone one in full (issue 25 item 14)
wait -n "${pids[@]}"
