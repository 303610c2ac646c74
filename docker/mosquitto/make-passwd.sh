#!/bin/sh
# Write docker/mosquitto/passwd from the environment, never from files in the repository:
#   ANSHIN_MQTT_CENTRAL_PASSWORD   password of user anshin-central (central ingest workers)
#   ANSHIN_MQTT_PASSWORD_<STORE>   password of each store's user, e.g. ANSHIN_MQTT_PASSWORD_TOKYO_01
#                                  for store_id tokyo-01 ('-' and '.' become '_', upper case)
# Usage: docker/mosquitto/make-passwd.sh tokyo-01 osaka-02 ...   (needs mosquitto_passwd)
set -eu
here=$(dirname "$0")
out="$here/passwd"
: "${ANSHIN_MQTT_CENTRAL_PASSWORD:?set ANSHIN_MQTT_CENTRAL_PASSWORD}"
umask 077
: > "$out"
mosquitto_passwd -b "$out" anshin-central "$ANSHIN_MQTT_CENTRAL_PASSWORD"
for store in "$@"; do
  var="ANSHIN_MQTT_PASSWORD_$(echo "$store" | tr 'a-z.-' 'A-Z__')"
  pw=$(printenv "$var" || true)
  if [ -z "$pw" ]; then echo "set $var for store $store" >&2; exit 2; fi
  mosquitto_passwd -b "$out" "$store" "$pw"
done
echo "wrote $out with users: anshin-central $*" >&2
