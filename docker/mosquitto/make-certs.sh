#!/bin/sh
# Create a private CA and the broker's TLS certificate for Mosquitto's 8883 listener.
#
# Usage: docker/mosquitto/make-certs.sh [broker-host-name] [output-folder]
#   broker-host-name  the name edges and ingest workers connect to (default: mosquitto, the compose
#                     service); the certificate also names localhost and 127.0.0.1
#   output-folder     default: docker/mosquitto/certs (git-ignored)
#
# Writes:
#   ca.crt      the private CA's certificate: give it to every client (edge: mqtt.ca_file in the
#               store YAML; central: ANSHIN_MQTT_CA_FILE, ANSHIN_COMMANDS_CA_FILE)
#   ca.key      the CA's private key: keep it offline; it signs new broker certificates
#   server.crt  the broker's certificate (signed by the CA; SANs: host name, localhost, 127.0.0.1)
#   server.key  the broker's private key (readable by the mosquitto user only in production)
# An existing CA is reused, so re-running (e.g. for a new host name) keeps clients' ca.crt valid.
# Needs openssl.
set -eu
host=${1:-mosquitto}
out=${2:-$(dirname "$0")/certs}
days_ca=3650
days_server=825
mkdir -p "$out"
umask 077
if [ ! -s "$out/ca.key" ] || [ ! -s "$out/ca.crt" ]; then
  openssl req -x509 -new -newkey rsa:3072 -nodes -sha256 -days "$days_ca" \
    -subj "/CN=Anshin private MQTT CA" -keyout "$out/ca.key" -out "$out/ca.crt" 2>/dev/null
  echo "created private CA        $out/ca.crt (key: $out/ca.key, keep it offline)" >&2
else
  echo "reusing private CA        $out/ca.crt" >&2
fi
ext="$out/server.ext"
cat > "$ext" <<CONF
basicConstraints = CA:FALSE
keyUsage = digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:$host, DNS:localhost, IP:127.0.0.1
CONF
openssl req -new -newkey rsa:2048 -nodes -sha256 -subj "/CN=$host" \
  -keyout "$out/server.key" -out "$out/server.csr" 2>/dev/null
openssl x509 -req -in "$out/server.csr" -CA "$out/ca.crt" -CAkey "$out/ca.key" -CAcreateserial \
  -days "$days_server" -sha256 -extfile "$ext" -out "$out/server.crt" 2>/dev/null
rm -f "$out/server.csr" "$ext"
# The broker runs as user mosquitto: it must read the certificates and its key (docker mounts them
# read-only); ca.key stays private to whoever ran this script.
chmod 644 "$out/ca.crt" "$out/server.crt" "$out/server.key"
chmod 600 "$out/ca.key"
openssl verify -CAfile "$out/ca.crt" "$out/server.crt" >/dev/null
echo "created broker certificate $out/server.crt for $host, localhost, 127.0.0.1 (valid $days_server days)" >&2
echo "clients: use mqtts://$host:8883 and trust $out/ca.crt (certificate verified, host name checked)" >&2
