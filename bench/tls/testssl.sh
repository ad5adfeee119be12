#!/usr/bin/env bash
# testssl.sh (Debian package testssl.sh) against every TLS port of a real govmail:
# submissions, IMAPS and HTTPS (implicit TLS) and the STARTTLS ports SMTP, submission and IMAP.
#   bench/tls/testssl.sh [build/govmail]          FAST=1 adds --fast (about 30 s a port)
# The server gets a certificate from a throwaway CA made here (with OCSP and CRL addresses, as a
# public CA's would have), and testssl trusts that CA: what remains are findings about govmail's
# TLS settings. Prints every finding above LOW per port, then a summary; exits 1 if any.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=$(realpath "${1:-$root/build/govmail}")
command -v testssl >/dev/null || { apt-get install -y testssl.sh >/dev/null || { apt-get update >/dev/null && apt-get install -y testssl.sh >/dev/null; }; }
work=$(mktemp -d /tmp/govmail-testssl.XXXXXX); chmod 755 "$work"
cleanup() { [ -n "${pid:-}" ] && kill -INT "$pid" 2>/dev/null && wait "$pid" || true; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# A CA and a leaf for localhost / 127.0.0.1 (EC P-256, like the self-signed default).
cd "$work"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 -subj "/CN=govmail test CA" \
  -keyout ca.key -out ca.pem -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" -keyout key.pem -out leaf.csr 2>/dev/null
cat > leaf.ext <<EXT
subjectAltName=DNS:localhost,IP:127.0.0.1
extendedKeyUsage=serverAuth
keyUsage=critical,digitalSignature
authorityInfoAccess=OCSP;URI:http://ocsp.example.gov.vn/,caIssuers;URI:http://ca.example.gov.vn/ca.pem
crlDistributionPoints=URI:http://ca.example.gov.vn/ca.crl
EXT
openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 90 -extfile leaf.ext -out leaf.pem 2>/dev/null
cat leaf.pem ca.pem > chain.pem

declare -A port
for s in smtp submission submissions imap imaps https http; do port[$s]=$(free_port); done
cat > govmail.toml <<CFG
[server]
hostname = "localhost"
var_dir = "$work/var"
[database]
embedded_port = $(free_port)
[tls]
cert_file = "$work/chain.pem"
key_file = "$work/key.pem"
[listen]
smtp = ["127.0.0.1:${port[smtp]}"]
submission = ["127.0.0.1:${port[submission]}"]
submissions = ["127.0.0.1:${port[submissions]}"]
imap = ["127.0.0.1:${port[imap]}"]
imaps = ["127.0.0.1:${port[imaps]}"]
pop3 = []
pop3s = []
https = ["127.0.0.1:${port[https]}"]
http = ["127.0.0.1:${port[http]}"]
[outbound]
enabled = false
CFG
env -u GOVMAIL_DATABASE_URL "$bin" serve --config govmail.toml > serve.log 2>&1 &
pid=$!
for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:${port[http]}/healthz" >/dev/null && break; sleep 0.5; done

total=0
summary=""
run() {  # name, testssl arguments...
  local name=$1; shift
  testssl --quiet --color 0 --warnings batch ${FAST:+--fast} --add-ca "$work/ca.pem" \
    --jsonfile "$work/$name.json" "$@" > "$work/$name.txt" 2>&1 || true
  local found
  found=$(python3 - "$work/$name.json" 2>"$work/$name.warn" <<'PY'
import json, sys
# Severities above LOW are findings; WARN means testssl could not run a check (printed, counted
# apart: e.g. "local OpenSSL" has no RC4 left, or a resumption probe's connect problem).
d = json.load(open(sys.argv[1]))
for f in d:
    if f["severity"] in ("MEDIUM", "HIGH", "CRITICAL"):
        print(f'  {f["severity"]} {f["id"]}: {f["finding"][:150]}')
for f in d:
    if f["severity"] == "WARN":
        print(f'  (scanner WARN, not counted) {f["id"]}: {f["finding"][:150]}', file=sys.stderr)
PY
)
  local protos
  protos=$(python3 - "$work/$name.json" <<'PY'
import json, sys
d = {f["id"]: f["finding"] for f in json.load(open(sys.argv[1]))}
print(", ".join(f'{p}: {d.get(p, "?")}' for p in ("SSLv3", "TLS1", "TLS1_1", "TLS1_2", "TLS1_3")))
PY
)
  local n=0; [ -n "$found" ] && n=$(printf '%s\n' "$found" | wc -l)
  total=$((total + n))
  summary+="$name: $n findings above LOW; $protos"$'\n'
  echo "== $name ($*): $n findings above LOW"
  [ -n "$found" ] && printf '%s\n' "$found"
  cat "$work/$name.warn"
  return 0
}
run submissions "127.0.0.1:${port[submissions]}"
run imaps "127.0.0.1:${port[imaps]}"
run https "127.0.0.1:${port[https]}"
run smtp --starttls smtp "127.0.0.1:${port[smtp]}"
run submission --starttls smtp "127.0.0.1:${port[submission]}"
run imap --starttls imap "127.0.0.1:${port[imap]}"
echo "== summary"
printf '%s' "$summary"
[ "$total" -eq 0 ]
