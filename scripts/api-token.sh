#!/usr/bin/env bash
# The Rasa HTTP API takes only JWTs (Authorization: Bearer <jwt>), signed with HS256 by one secret:
# COACH_JWT_SECRET from the environment, else one generated once into var/jwt_secret (owner-only).
#   scripts/api-token.sh                 a JWT for an operator (role admin: every conversation), valid 24 hours
#   scripts/api-token.sh --user ID       a JWT that reads and writes only conversation ID (role user)
#   scripts/api-token.sh --sender ID     a *sender token*: speaks as REST/socket.io sender ID from another machine
#                                        (bot/channels/sender_auth.py; refused by the HTTP API, as API tokens are by it)
#   scripts/api-token.sh --hours N       another lifetime
#   scripts/api-token.sh --secret        the signing secret itself (scripts/run.sh passes it to --jwt-secret)
# Use: curl -H "Authorization: Bearer $(scripts/api-token.sh)" localhost:5005/conversations/ID/tracker
set -eu
cd "$(dirname "$0")/.."
secret() {
  if [ -n "${COACH_JWT_SECRET:-}" ]; then echo "$COACH_JWT_SECRET"; return; fi
  mkdir -p var
  [ -s var/jwt_secret ] || (umask 077; od -An -N32 -tx1 /dev/urandom | tr -d ' \n' > var/jwt_secret)
  cat var/jwt_secret
}
user="operator" role="admin" hours=24 sender=""
while [ $# -gt 0 ]; do
  case "$1" in
    --secret) secret; exit 0 ;;
    --user) user="$2" role="user"; shift 2 ;;
    --sender) sender="$2"; shift 2 ;;
    --hours) hours="$2"; shift 2 ;;
    *) echo "usage: $0 [--user ID | --sender ID] [--hours N] | --secret" >&2; exit 2 ;;
  esac
done
SECRET=$(secret) JWT_USER="$user" JWT_ROLE="$role" JWT_HOURS="$hours" JWT_SENDER="$sender" .venv/bin/python - <<'PY'
import os, time

import jwt

now = int(time.time())
claims = {"user": {"username": os.environ["JWT_USER"], "role": os.environ["JWT_ROLE"]},
          "iat": now, "exp": now + int(float(os.environ["JWT_HOURS"]) * 3600)}
if os.environ["JWT_SENDER"]:  # the audience of bot/channels/sender_auth.py SENDER_AUDIENCE
    claims = {"sub": os.environ["JWT_SENDER"], "aud": "coach-sender", "iat": claims["iat"], "exp": claims["exp"]}
print(jwt.encode(claims, os.environ["SECRET"], algorithm="HS256"))
PY
