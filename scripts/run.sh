#!/usr/bin/env bash
# Start the action server and the Rasa server in the foreground; Ctrl-C stops both cleanly.
set -eu
ACTION_PORT=${ACTION_PORT:-5055}
RASA_PORT=${RASA_PORT:-5005}
TOKEN=$(scripts/api-token.sh)
mkdir -p var
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

.venv/bin/rasa run actions --actions actions --port "$ACTION_PORT" &
pids+=($!)
.venv/bin/rasa run --enable-api --auth-token "$TOKEN" --cors "*" --port "$RASA_PORT" \
  --model var/models --endpoints var/endpoints.yml --credentials bot/credentials.yml &
pids+=($!)

for _ in $(seq 1 120); do
  curl -fs "http://localhost:${RASA_PORT}/" >/dev/null 2>&1 && break
  sleep 1
done
LAN_IP=$(hostname -I 2>/dev/null | awk '{print $1}')
cat <<MSG

Sales Coach is running.
  Web chat:   http://localhost:${RASA_PORT}/chat/   (from a phone on the same network: http://${LAN_IP:-<this machine's IP>}:${RASA_PORT}/chat/)
  REST:       curl -s localhost:${RASA_PORT}/webhooks/rest/webhook -d '{"sender":"me","message":"hello"}'
  socket.io:  http://localhost:${RASA_PORT}/socket.io (any Rasa web chat widget)
  HTTP API:   http://localhost:${RASA_PORT}/  (token in var/api_token or \$RASA_TOKEN)
  Terminal:   make shell
Press Ctrl-C to stop.
MSG
wait -n "${pids[@]}"
