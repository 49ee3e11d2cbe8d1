# Shared by run.sh's HTTPS cases and testssl.sh: certificates made at run time in $WORK (keys never
# leave it), their upload to weldr, nginx's HTTPS settings, and a client that never resumes a session.

TLS_NAME=bench.weldr.test   # the certificates' name; clients that send another (or none) get weldr's default certificate

tls_certs() { # a throwaway CA, and leaves signed by it for TLS_NAME: $WORK/tls/{ecdsa,rsa}.{pem,key}, ca.pem, dhparam.pem
  local d="$WORK/tls" kind
  mkdir -p "$d"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 90 -subj "/CN=weldr bench CA" \
    -keyout "$d/ca.key" -out "$d/ca.pem" 2>/dev/null
  for kind in ecdsa rsa; do
    local key=(-newkey ec -pkeyopt ec_paramgen_curve:P-256) usage=digitalSignature
    [ "$kind" = rsa ] && key=(-newkey rsa:2048) && usage=digitalSignature,keyEncipherment
    openssl req -x509 "${key[@]}" -nodes -days 90 -subj "/CN=$TLS_NAME" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
      -addext "subjectAltName=DNS:$TLS_NAME" -addext basicConstraints=critical,CA:FALSE \
      -addext "keyUsage=critical,$usage" -addext extendedKeyUsage=serverAuth \
      -keyout "$d/$kind.key" -out "$d/$kind.pem" 2>/dev/null
  done
  # Mozilla's intermediate profile takes RFC 7919's ffdhe2048 group for DHE; made here, not downloaded.
  openssl genpkey -genparam -algorithm DH -pkeyopt group:ffdhe2048 -out "$d/dhparam.pem"
  chmod 755 "$d"; chmod 644 "$d"/*   # nginx's workers run as another user; $WORK itself is removed on exit
}

tls_upload() { # admin-port kind: PUT /certificates/bench with that leaf and key; exits on anything but 200
  local code
  code=$(python3 -c 'import json, sys; print(json.dumps({"chain": open(sys.argv[1]).read(), "key": open(sys.argv[2]).read()}))' \
      "$WORK/tls/$2.pem" "$WORK/tls/$2.key" |
    curl -s -o "$WORK/upload.out" -w '%{http_code}' -X PUT -H 'Content-Type: application/json' --data-binary @- \
      "http://127.0.0.1:$1/certificates/bench")
  [ "$code" = 200 ] || { echo "bench: PUT /certificates/bench ($2) on :$1 answered $code: $(cat "$WORK/upload.out")" >&2; exit 1; }
}

tls_served() { # port: SHA-256 fingerprint of the certificate a handshake without a server name gets (empty if refused)
  openssl s_client -connect "127.0.0.1:$1" </dev/null 2>/dev/null |
    openssl x509 -noout -fingerprint -sha256 2>/dev/null || true
}

tls_await() { # port kind: until handshakes get that certificate (a replacement reaches the next handshake, not a time)
  local want deadline=$((SECONDS + 30))
  want=$(openssl x509 -in "$WORK/tls/$2.pem" -noout -fingerprint -sha256)
  until [ "$(tls_served "$1")" = "$want" ]; do
    [ $SECONDS -lt $deadline ] || { echo "bench: :$1 does not serve the $2 certificate" >&2; exit 1; }
    sleep 0.1
  done
}

tls_negotiated() { # port: what a client with OpenSSL's defaults gets, in one line
  openssl s_client -connect "127.0.0.1:$1" </dev/null 2>/dev/null | awk '
    /^Peer signature type:/ { sig = $4 } /^Server Temp Key:/ { kx = $4; sub(",", "", kx) } /^Server public key is/ { bits = $5 }
    /^New, / { proto = $2; sub(",", "", proto); cipher = $NF }
    END { printf "%s %s, %s %s-bit, key exchange %s\n", proto, cipher, sig, bits, kx }'
}

nginx_tls() { # kind: nginx's HTTPS settings, Mozilla's intermediate profile (ssl-config.mozilla.org, guidelines 5.7)
  # Changed from the generator's output: the server's cipher order (as weldr, and the issue, ask), and
  # TLS 1.3 suites in weldr's order so that both negotiate the same one. Left out: OCSP stapling and
  # its resolver (a throwaway CA has no responder; nothing leaves loopback) and HSTS, which
  # run.sh's nginx leaves out too (weldr's responses do not carry it) and testssl.sh puts back.
  cat <<EOF
    ssl_certificate $WORK/tls/$1.pem;
    ssl_certificate_key $WORK/tls/$1.key;
    ssl_session_timeout 1d;
    ssl_session_cache shared:MozSSL$1:10m;
    ssl_session_tickets off;
    ssl_dhparam $WORK/tls/dhparam.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305;
    ssl_conf_command Ciphersuites TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256;
    ssl_prefer_server_ciphers on;
EOF
}

tls_no_resumption() { # builds $WORK/noresume.so: preloaded into wrk, every new connection makes a full handshake
  # wrk (and h2load) reuse one SSL object per connection slot, and SSL_clear keeps its session, so
  # each reconnection would resume it (nginx logs $ssl_session_reused "r" for all but the first).
  # This wrapper drops the session after SSL_clear. run.sh checks the effect against nginx.
  cat > "$WORK/noresume.c" <<'EOF'
#define _GNU_SOURCE
#include <dlfcn.h>
typedef struct ssl_st SSL;
int SSL_clear(SSL *s) {
  static int (*clear)(SSL *);
  static int (*set_session)(SSL *, void *);
  if (!clear) {
    clear = (int (*)(SSL *)) dlsym(RTLD_NEXT, "SSL_clear");
    set_session = (int (*)(SSL *, void *)) dlsym(RTLD_NEXT, "SSL_set_session");
  }
  int r = clear(s);
  set_session(s, 0);
  return r;
}
EOF
  cc -shared -fPIC -O2 -o "$WORK/noresume.so" "$WORK/noresume.c" -ldl
}
