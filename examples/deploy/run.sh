#!/usr/bin/env bash
# laminar behind a real nginx on this machine: renders nginx.conf.template into a run directory,
# starts `laminar serve` with several workers on 127.0.0.1, then nginx in front of it with its own
# prefix, pid and logs (never the system's nginx service). Ctrl-C or SIGTERM stops both; if either
# exits, the other is stopped too.
#
# Usage: examples/deploy/run.sh [APP_TARGET]
#   APP_TARGET   module[:export] to serve; default dist/examples/deploy/app.js (run `npm run build` first)
# Environment (all optional):
#   LISTEN_HOST=127.0.0.1  HTTPS_PORT=8443  HTTP_PORT=8080   where nginx listens (HTTP only redirects)
#   APP_PORT=8000  WORKERS=2  SERVER=node                    the laminar workers, on 127.0.0.1
#   CERT=... KEY=...      PEM certificate and key; default: a self-signed pair made in RUN_DIR
#   RUN_DIR=...           rendered config, pids, logs, nginx temp files; default: a new temp directory
#   LAMINAR="node <repo>/dist/lib/cli/bin.js"   the laminar command
#   NGINX_BIN=nginx       the nginx binary (PATH, then /usr/sbin/nginx). Not NGINX: nginx itself reads
#                         that variable (listening sockets handed over by a binary upgrade).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"

TARGET="${1:-$root/dist/examples/deploy/app.js}"
LISTEN_HOST="${LISTEN_HOST:-127.0.0.1}"
HTTPS_PORT="${HTTPS_PORT:-8443}"
HTTP_PORT="${HTTP_PORT:-8080}"
APP_PORT="${APP_PORT:-8000}"
WORKERS="${WORKERS:-2}"
SERVER="${SERVER:-node}"
LAMINAR="${LAMINAR:-node $root/dist/lib/cli/bin.js}"
NGINX_BIN="${NGINX_BIN:-$(command -v nginx || echo /usr/sbin/nginx)}"
RUN_DIR="${RUN_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/laminar-deploy.XXXXXX")}"

fail() { echo "run.sh: $*" >&2; exit 1; }

[ -x "$NGINX_BIN" ] || fail "nginx not found (set NGINX_BIN=/path/to/nginx, or apt-get install nginx)"
case "$TARGET" in
  *:*) target_file="${TARGET%:*}" ;;
  *) target_file="$TARGET" ;;
esac
[ -e "$target_file" ] || fail "app $target_file not found (npm run build compiles examples/deploy/app.ts)"

mkdir -p "$RUN_DIR"
RUN_DIR="$(cd "$RUN_DIR" && pwd)"
# Run as root, nginx's workers drop to an unprivileged user that must still reach their temp
# directories here (nginx creates and chowns those itself). Certificates and logs are opened by the
# master before it drops privileges, so a private key stays private.
chmod 755 "$RUN_DIR"

if [ -z "${CERT:-}" ] || [ -z "${KEY:-}" ]; then
  CERT="$RUN_DIR/cert.pem"
  KEY="$RUN_DIR/key.pem"
  if [ ! -e "$CERT" ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 7 -subj "/CN=localhost" \
      -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$KEY" -out "$CERT" 2>/dev/null ||
      fail "openssl could not make a self-signed certificate"
    chmod 600 "$KEY"
  fi
fi

# @@NAME@@ → value. sed's replacement treats \, & and the delimiter specially: escape them.
escape() { printf '%s' "$1" | sed -e 's/[\\|&]/\\&/g'; }
conf="$RUN_DIR/nginx.conf"
sed -e "s|@@RUN_DIR@@|$(escape "$RUN_DIR")|g" \
    -e "s|@@STATIC_DIR@@|$(escape "$here/static")|g" \
    -e "s|@@CERT@@|$(escape "$(cd "$(dirname "$CERT")" && pwd)/$(basename "$CERT")")|g" \
    -e "s|@@KEY@@|$(escape "$(cd "$(dirname "$KEY")" && pwd)/$(basename "$KEY")")|g" \
    -e "s|@@LISTEN_HOST@@|$(escape "$LISTEN_HOST")|g" \
    -e "s|@@HTTPS_PORT@@|$(escape "$HTTPS_PORT")|g" \
    -e "s|@@HTTP_PORT@@|$(escape "$HTTP_PORT")|g" \
    -e "s|@@APP_HOST@@|127.0.0.1|g" \
    -e "s|@@APP_PORT@@|$(escape "$APP_PORT")|g" \
    "$here/nginx.conf.template" > "$conf"
if grep -v '^[[:space:]]*#' "$conf" | grep '@@[A-Z_]*@@' >&2; then fail "placeholders left in $conf"; fi

# -e: the error log from the first line on (the build's default may be a path this user cannot write).
nginx_args=(-p "$RUN_DIR" -c "$conf" -e "$RUN_DIR/error.log")
# nginx takes inherited listening sockets from $NGINX (its binary-upgrade handover): never pass one on.
unset NGINX
"$NGINX_BIN" -t -q "${nginx_args[@]}" || fail "nginx rejected $conf (see above)"

# Job control: each background job gets its own process group, so a Ctrl-C reaches this script only
# and each child is signalled exactly once, by stop() (a second signal would make laminar exit at once).
set -m
pids=()
stop() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait || true
}
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
trap stop EXIT

read -r -a laminar_cmd <<<"$LAMINAR"
# The proxy is this nginx on 127.0.0.1: its X-Forwarded-For/-Proto are believed, nobody else's.
"${laminar_cmd[@]}" serve "$TARGET" --host 127.0.0.1 --port "$APP_PORT" --workers "$WORKERS" \
  --server "$SERVER" --forwarded-allow-ips "127.0.0.1,::1" &
pids+=($!)
echo $! > "$RUN_DIR/laminar.pid"
"$NGINX_BIN" "${nginx_args[@]}" -g "daemon off;" &
pids+=($!)

echo "run.sh: https://$LISTEN_HOST:$HTTPS_PORT/ -> nginx -> laminar on 127.0.0.1:$APP_PORT ($WORKERS workers); static files under /static/; config and logs in $RUN_DIR"

status=0
wait -n || status=$?
echo "run.sh: a process exited (status $status); stopping the other" >&2
exit "$status"
