#!/usr/bin/env bash
# The Rasa HTTP API takes only JWTs (Authorization: Bearer <jwt>), signed with HS256 by one secret, read as
# bot/start.py reads it (knowledge/secret_files.py): COACH_JWT_SECRET, else the file COACH_JWT_SECRET_FILE names,
# else var/jwt_secret, generated once (owner-only).
#   scripts/api-token.sh                 a JWT for an operator (role admin: every conversation), valid 24 hours
#   scripts/api-token.sh --user ID       a JWT that reads and writes only conversation ID (role user)
#   scripts/api-token.sh --sender ID     a *sender token*: speaks as REST/socket.io sender ID from another machine
#                                        (bot/channels/sender_auth.py; refused by the HTTP API, as API tokens are by it)
#   scripts/api-token.sh --hours N       another lifetime
#   scripts/api-token.sh --secret        the signing secret itself
# Use: curl -H "Authorization: Bearer $(scripts/api-token.sh)" localhost:5005/conversations/ID/tracker
set -eu
cd "$(dirname "$0")/.."
secret() {
  .venv/bin/python -c 'from knowledge.secret_files import JWT; print(JWT.load())'
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
if os.environ["JWT_SENDER"]:  # a sender token, as bot/channels/sender_auth.py checks it
    from bot.channels.sender_auth import mint

    print(mint(os.environ["JWT_SENDER"], os.environ["SECRET"], int(float(os.environ["JWT_HOURS"]) * 3600)))
else:
    print(jwt.encode(claims, os.environ["SECRET"], algorithm="HS256"))
PY
