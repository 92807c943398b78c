#!/usr/bin/env bash
# Makes the throwaway PKI every test suite uses, in the directory given (created if missing):
#   ca.pem/.key          test root CA ("tlsbridge Test CA")
#   server.pem/.key      RSA server cert, CN=localhost, SAN DNS:localhost, IP:127.0.0.1 (by ca)
#   server-ec.pem/.key   ECDSA P-256 server cert, same names (by ca)
#   client.pem/.key      client cert, CN=tlsbridge client, EKU clientAuth (by ca)
#   wrongname.pem/.key   server cert for DNS:wrong.example only (by ca)
#   expired.pem/.key     server cert for localhost that expired in the past (by ca)
#   other-ca.pem/.key    a second root that nobody trusts
#   untrusted.pem/.key   server cert for localhost issued by other-ca
#   other-client.pem/.key client cert issued by other-ca
#   mismatch.key         a key that matches none of the certificates
#   garbage.pem          a file that is not PEM
# Verification policy (docs/verification.md):
#   inter-ca.pem/.key    intermediate CA under ca ("tlsbridge Test Intermediate CA")
#   inter-server.pem/.key server cert for localhost by inter-ca; inter-chain.pem = it + inter-ca.pem
#   inter-client.pem/.key client cert by inter-ca; inter-client-chain.pem = it + inter-ca.pem
#   revoked.pem/.key     server cert for localhost by ca, revoked in crl-ca.pem
#   crl-ca.pem           ca's CRL (valid now) revoking revoked.pem and inter-ca.pem
#   crl-inter.pem        inter-ca's CRL (valid now), revoking nothing
#   crl-ca-expired.pem   ca's CRL, nextUpdate 2021-01-01 (expired), revoking nothing
#   crl-ca-future.pem    ca's CRL, lastUpdate 2099-01-01 (not yet valid), revoking nothing
#   crl-other.pem        other-ca's CRL (an issuer trusted-ca=ca.pem does not know)
#   badku.pem/.key       server cert for localhost by ca, Key Usage dataEncipherment only
#   wild.pem/.key        server cert by ca, SAN DNS:*.tlsbridge.test
#   wild-suffix.pem/.key server cert by ca, SAN DNS:*.co.uk (a wildcard over a public suffix)
#   wild-partial.pem/.key server cert by ca, SAN DNS:w*.tlsbridge.test (a partial-label wildcard)
#   wild-psl.pem/.key    server cert by ca, SANs DNS:*.github.io (private-section suffix),
#                        DNS:*.city.kawasaki.jp (exception rule), DNS:*.a.kawasaki.jp (star rule)
#   keycertsign.pem/.key server cert for localhost by ca, CA:FALSE but Key Usage keyCertSign too
#   nscert.pem/.key      server cert for localhost by ca, Key Usage and EKU fine, nsCertType client only
#   ec-keycertsign.pem/.key ECDSA server cert for localhost by ca, CA:FALSE, Key Usage keyCertSign only
# Name constraints and the CN fallback (leaves without subjectAltName, all with nc-leaf.key;
# NAME-chain.pem = leaf + its CA):
#   nc-permit-ca.pem/.key  intermediate under ca, nameConstraints permitted;DNS:allowed.test
#   nc-exclude-ca.pem/.key intermediate under ca, nameConstraints excluded;DNS:evil.test
#   nc-permit-ok (CN=www.allowed.test), nc-permit-plain (CN=www.evil.test), nc-permit-wild
#   (CN=*.evil.test), nc-permit-single (CN=intranet), nc-permit-dot (CN=www.evil.test.) by
#   nc-permit-ca; nc-exclude-wild (CN=*.evil.test), nc-exclude-dot (CN=www.evil.test.) by nc-exclude-ca
# Bad input (docs/verification.md):
#   bad/bundle-cert.pem  ca.pem, a CERTIFICATE block that is not a certificate, other-ca.pem
#   bad/bundle-base64.pem ca.pem, a CERTIFICATE block that is not base64
#   bad/crl.pem          crl-ca.pem, an X509 CRL block that is not a CRL
#   bad/server-chain.pem server.pem, a CERTIFICATE block that is not a certificate
#   bad/ca-dir/          ca.pem and bundle-cert.pem
#   server-pkcs8-enc.key server.key as encrypted PKCS#8, password in key-password.txt (s3cret)
#   server-trad-enc.key  server.key as traditional encrypted PEM, same password
# Usage: make-certs.sh DIR
set -euo pipefail
dir=${1:?usage: make-certs.sh DIR}
mkdir -p "$dir"
cd "$dir"
export OPENSSL_CONF=/dev/null

key() { openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null; }
eckey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# root NAME KEY CN
root() {
  openssl req -x509 -new -key "$2" -subj "/O=tlsbridge tests/CN=$3" -days 3650 -sha256 \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash" -out "$1"
}

# leaf NAME KEY CN CA EXT-LINES [DAYS-OPTS...]
leaf() {
  local name=$1 k=$2 cn=$3 ca=$4 ext=$5; shift 5
  openssl req -new -key "$k" -subj "/O=tlsbridge tests/CN=$cn" -out "$name.csr"
  printf '%b\n' "$ext" > "$name.ext"
  openssl x509 -req -in "$name.csr" -CA "$ca.pem" -CAkey "$ca.key" -CAcreateserial \
    -extfile "$name.ext" -sha256 "$@" -out "$name.pem" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
}

server_ext='basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\nauthorityKeyIdentifier=keyid'
client_ext='basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\nauthorityKeyIdentifier=keyid'

key ca.key;        root ca.pem ca.key "tlsbridge Test CA"
key other-ca.key;  root other-ca.pem other-ca.key "tlsbridge Untrusted CA"

key server.key;    leaf server server.key localhost ca "$server_ext" -days 365
eckey server-ec.key; leaf server-ec server-ec.key localhost ca "$server_ext" -days 365
key client.key;    leaf client client.key "tlsbridge client" ca "$client_ext" -days 365
key wrongname.key; leaf wrongname wrongname.key wrong.example ca \
  'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:wrong.example\nauthorityKeyIdentifier=keyid' -days 365
# A validity window entirely in the past: not_before 2020-01-01, not_after 2021-01-01.
key expired.key
openssl req -new -key expired.key -subj "/O=tlsbridge tests/CN=localhost" -out expired.csr
printf '%b\n' "$server_ext" > expired.ext
openssl x509 -req -in expired.csr -CA ca.pem -CAkey ca.key -CAcreateserial -extfile expired.ext \
  -sha256 -not_before 20200101000000Z -not_after 20210101000000Z -out expired.pem 2>/dev/null \
|| { # OpenSSL 3.0's x509 has no -not_before: sign through `ca` with explicit dates instead.
  mkdir -p expired-ca && : > expired-ca/index.txt && echo 1000 > expired-ca/serial
  cat > expired-ca/ca.cnf <<CNF
[ca]
default_ca = d
[d]
database = $PWD/expired-ca/index.txt
serial = $PWD/expired-ca/serial
new_certs_dir = $PWD/expired-ca
default_md = sha256
policy = p
copy_extensions = none
[p]
commonName = supplied
organizationName = optional
CNF
  openssl ca -batch -config expired-ca/ca.cnf -cert ca.pem -keyfile ca.key -in expired.csr \
    -startdate 20200101000000Z -enddate 20210101000000Z -extfile expired.ext -notext \
    -out expired.pem 2>/dev/null
  rm -rf expired-ca
}
rm -f expired.csr expired.ext

key untrusted.key;    leaf untrusted untrusted.key localhost other-ca "$server_ext" -days 365
key other-client.key; leaf other-client other-client.key "tlsbridge other client" other-ca "$client_ext" -days 365
key mismatch.key
echo "this is not a PEM file" > garbage.pem
rm -f ./*.srl

# ---- verification policy ----
ext_ca='basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid'
key inter-ca.key; leaf inter-ca inter-ca.key "tlsbridge Test Intermediate CA" ca "$ext_ca" -days 365
key inter-server.key; leaf inter-server inter-server.key localhost inter-ca "$server_ext" -days 365
cat inter-server.pem inter-ca.pem > inter-chain.pem
key inter-client.key; leaf inter-client inter-client.key "tlsbridge inter client" inter-ca "$client_ext" -days 365
cat inter-client.pem inter-ca.pem > inter-client-chain.pem
key revoked.key; leaf revoked revoked.key localhost ca "$server_ext" -days 365
key badku.key; leaf badku badku.key localhost ca \
  'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,dataEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\nauthorityKeyIdentifier=keyid' -days 365
wild() { # NAME SAN
  key "$1.key"; leaf "$1" "$1.key" "tlsbridge wildcard" ca \
    "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=$2\nauthorityKeyIdentifier=keyid" -days 365
}
key keycertsign.key; leaf keycertsign keycertsign.key localhost ca \
  'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment,keyCertSign\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost\nauthorityKeyIdentifier=keyid' -days 365
key nscert.key; leaf nscert nscert.key localhost ca \
  'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nnsCertType=client\nsubjectAltName=DNS:localhost,IP:127.0.0.1\nauthorityKeyIdentifier=keyid' -days 365
eckey ec-keycertsign.key; leaf ec-keycertsign ec-keycertsign.key localhost ca \
  'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,keyCertSign\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\nauthorityKeyIdentifier=keyid' -days 365
wild wild 'DNS:*.tlsbridge.test'
wild wild-suffix 'DNS:*.co.uk'
wild wild-partial 'DNS:w*.tlsbridge.test'
wild wild-psl 'DNS:*.github.io,DNS:*.city.kawasaki.jp,DNS:*.a.kawasaki.jp'

# Name constraints and the common-name fallback: intermediates under ca that permit only
# allowed.test / exclude evil.test, and leaves without subjectAltName named only by their CN.
key nc-permit-ca.key; leaf nc-permit-ca nc-permit-ca.key "tlsbridge NC permit CA" ca \
  "$ext_ca\nnameConstraints=critical,permitted;DNS:allowed.test" -days 365
key nc-exclude-ca.key; leaf nc-exclude-ca nc-exclude-ca.key "tlsbridge NC exclude CA" ca \
  "$ext_ca\nnameConstraints=critical,excluded;DNS:evil.test" -days 365
key nc-leaf.key
nc_leaf() { # NAME CA CN -> NAME.pem (leaf, no SAN) and NAME-chain.pem (leaf + CA)
  leaf "$1" nc-leaf.key "$3" "$2" \
    'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nauthorityKeyIdentifier=keyid' -days 365
  cat "$1.pem" "$2.pem" > "$1-chain.pem"
}
nc_leaf nc-permit-ok nc-permit-ca www.allowed.test
nc_leaf nc-permit-plain nc-permit-ca www.evil.test
nc_leaf nc-permit-wild nc-permit-ca '*.evil.test'
nc_leaf nc-permit-single nc-permit-ca intranet
nc_leaf nc-permit-dot nc-permit-ca www.evil.test.
nc_leaf nc-exclude-wild nc-exclude-ca '*.evil.test'
nc_leaf nc-exclude-dot nc-exclude-ca www.evil.test.

# crl OUT CA [openssl ca options...] — revokes the certificates named by REVOKE (space-separated).
crl() {
  local out=$1 ca=$2; shift 2
  rm -rf crl-db && mkdir crl-db && : > crl-db/index.txt && echo 01 > crl-db/crlnumber
  cat > crl-db/ca.cnf <<CNF
[ca]
default_ca = d
[d]
database = $PWD/crl-db/index.txt
crlnumber = $PWD/crl-db/crlnumber
default_md = sha256
default_crl_days = 30
CNF
  for c in ${REVOKE:-}; do
    openssl ca -config crl-db/ca.cnf -cert "$ca.pem" -keyfile "$ca.key" -revoke "$c" 2>/dev/null
  done
  openssl ca -config crl-db/ca.cnf -cert "$ca.pem" -keyfile "$ca.key" -gencrl "$@" -out "$out" 2>/dev/null
  rm -rf crl-db
}
REVOKE="revoked.pem inter-ca.pem" crl crl-ca.pem ca
crl crl-inter.pem inter-ca
crl crl-ca-expired.pem ca -crl_lastupdate 20200101000000Z -crl_nextupdate 20210101000000Z
crl crl-ca-future.pem ca -crl_lastupdate 20990101000000Z -crl_nextupdate 20991231000000Z
crl crl-other.pem other-ca
rm -f ./*.srl

# ---- malformed PEM bundles and encrypted keys ----
# In bad/, so that the directory itself stays a valid trusted-ca directory. A block with a
# certificate label whose body is valid base64 but not a certificate, and one whose body is not
# base64 at all: each follows good blocks, so a reader that stops there truncates the bundle.
not_der() { printf -- '-----BEGIN %s-----\nTm90IGEgY2VydGlmaWNhdGUgYXQgYWxs\n-----END %s-----\n' "$1" "$1"; }
not_b64() { printf -- '-----BEGIN %s-----\n!!not*base64!!\n-----END %s-----\n' "$1" "$1"; }
mkdir -p bad/ca-dir
{ cat ca.pem; not_der CERTIFICATE; cat other-ca.pem; } > bad/bundle-cert.pem
{ cat ca.pem; not_b64 CERTIFICATE; } > bad/bundle-base64.pem
{ cat crl-ca.pem; not_der 'X509 CRL'; } > bad/crl.pem
{ cat server.pem; not_der CERTIFICATE; } > bad/server-chain.pem
cp ca.pem bad/bundle-cert.pem bad/ca-dir/
# server.key encrypted: PKCS#8 (ENCRYPTED PRIVATE KEY) and traditional (Proc-Type: 4,ENCRYPTED).
openssl pkcs8 -topk8 -in server.key -v2 aes-256-cbc -passout pass:s3cret -out server-pkcs8-enc.key
openssl rsa -in server.key -aes256 -traditional -passout pass:s3cret -out server-trad-enc.key 2>/dev/null
printf 's3cret\n' > key-password.txt
