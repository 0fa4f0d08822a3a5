#!/usr/bin/env bash
# Start the action server and the Rasa server in the foreground; Ctrl-C stops both cleanly.
set -eu
ACTION_PORT=${ACTION_PORT:-5055}
RASA_PORT=${RASA_PORT:-5005}
mkdir -p var
# The HTTP API takes only JWTs signed with this secret (scripts/api-token.sh mints one); no token in the query.
JWT_SECRET=$(scripts/api-token.sh --secret)
# Rasa sends this secret to the action server in a header (bot/endpoints.yml); the action server refuses calls
# without it. COACH_ACTION_SECRET from the environment, else one generated once into var/action_secret.
if [ -z "${COACH_ACTION_SECRET:-}" ]; then
  [ -s var/action_secret ] || (umask 077; od -An -N32 -tx1 /dev/urandom | tr -d ' \n' > var/action_secret)
  COACH_ACTION_SECRET=$(cat var/action_secret)
fi
export COACH_ACTION_SECRET
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
.venv/bin/rasa run --enable-api --jwt-secret "$JWT_SECRET" --jwt-method HS256 --cors "*" --port "$RASA_PORT" \
  --model "$MODEL" --endpoints var/endpoints.yml --credentials bot/credentials.yml &
pids+=($!)

for _ in $(seq 1 120); do
  curl -fs "http://localhost:${RASA_PORT}/" >/dev/null 2>&1 && curl -fs "http://127.0.0.1:${ACTION_PORT}/health" >/dev/null 2>&1 && break
  sleep 1
done
scripts/addresses.sh "$RASA_PORT"  # the addresses to open, the phone one in full (issue 25 item 14)
wait -n "${pids[@]}"
