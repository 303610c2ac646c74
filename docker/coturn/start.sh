#!/bin/sh
# coturn's entrypoint in docker-compose.yml: refuse to start without a real shared secret, then
# run turnserver with docker/coturn/turnserver.conf plus the secret (written to a 0600 file in the
# container, never on the command line where `ps` would show it).
set -eu
case "${ANSHIN_TURN_SECRET:-}" in
  ""|change-me*) echo "ANSHIN_TURN_SECRET: set it to a random secret (also given to central as ANSHIN_SIGNAGE_TURN_SECRET)" >&2; exit 1 ;;
esac
umask 077
conf="${ANSHIN_TURN_RUN_CONF:-/tmp/turnserver.conf}"
cat "${ANSHIN_TURN_CONF:-/etc/coturn/turnserver.conf}" > "$conf"
printf 'static-auth-secret=%s\n' "$ANSHIN_TURN_SECRET" >> "$conf"
if [ -n "${ANSHIN_TURN_EXTERNAL_IP:-}" ]; then printf 'external-ip=%s\n' "$ANSHIN_TURN_EXTERNAL_IP" >> "$conf"; fi
exec turnserver -c "$conf"
