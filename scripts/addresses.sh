#!/usr/bin/env bash
# What `make run` prints once the servers are up: where to open the coach, with the port and path in full, https
# when the Rasa server has a certificate (COACH_TLS_CERT, bot/start.py). scripts/run.sh calls it;
# tests/test_security.py checks it. Usage: scripts/addresses.sh RASA_PORT
set -eu
RASA_PORT=${1:-5005}
SCHEME=http; CURL="curl -s"
if [ -n "${COACH_TLS_CERT:-}" ]; then SCHEME=https; CURL="curl -sk"; fi  # -k: the certificate names the public host, not localhost
LAN_IP=$(hostname -I 2>/dev/null | awk '{print $1}' || true)
PHONE_HOST=${LAN_IP:-"<this machine's IP>"}  # quoted here: an apostrophe inside a heredoc's ${...} cut the line off
PHONE_URL="${SCHEME}://${PHONE_HOST}:${RASA_PORT}/chat/"
cat <<MSG

Sales Coach is running.
  Web chat:   ${SCHEME}://localhost:${RASA_PORT}/chat/
              from a phone on the same Wi-Fi: ${PHONE_URL}
  REST:       ${CURL} ${SCHEME}://localhost:${RASA_PORT}/webhooks/rest/webhook -d '{"sender":"me","message":"hello"}'
              (from another machine only with a sender token: scripts/api-token.sh --sender ID)
  socket.io:  ${SCHEME}://localhost:${RASA_PORT}/socket.io (any Rasa web chat widget; other sites: COACH_CORS_ORIGINS)
  HTTP API:   ${SCHEME}://localhost:${RASA_PORT}/  (JWT only: ${CURL} -H "Authorization: Bearer \$(scripts/api-token.sh)" ...)
  Terminal:   make shell
Press Ctrl-C to stop.
MSG
