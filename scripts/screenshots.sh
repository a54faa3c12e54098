#!/usr/bin/env bash
# Retakes the README's pictures from the sample day (recorded papers and analyses; no network):
# a fresh data dir, the app under gunicorn on a free loopback port, Chromium screenshots.
# usage: bash scripts/screenshots.sh        (needs `make install clients` and Debian's chromium)
set -euo pipefail
cd "$(dirname "$0")/.."
data=$(mktemp -d)
port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
DIGEST_DATA_DIR="$data" .venv/bin/gunicorn --preload --bind "127.0.0.1:$port" --workers 1 wsgi:app 2>/dev/null &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break || sleep 0.2; done
curl -s -o /dev/null "http://127.0.0.1:$port/healthz"
node scripts/screenshots.mjs "http://127.0.0.1:$port" \
    "/feeds/sample/2026-01-28=docs/screenshot-day.png" \
    "/papers/2601.19887=docs/screenshot-paper.png"
