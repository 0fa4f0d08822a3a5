#!/usr/bin/env bash
# The Rasa HTTP API token: RASA_TOKEN from the environment, else one generated once and kept in var/.
set -eu
if [ -n "${RASA_TOKEN:-}" ]; then echo "$RASA_TOKEN"; exit 0; fi
mkdir -p var
[ -s var/api_token ] || (umask 077; od -An -N16 -tx1 /dev/urandom | tr -d ' \n' > var/api_token)
cat var/api_token
