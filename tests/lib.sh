# shellcheck shell=bash
# Helpers for the integration tests and the demo.  Source this file; it
# defines functions only.  Everything is written under directories the
# caller names (normally inside its own "$T"), and the caller's trap calls
# stop_server and removes "$T".

LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# openssl req config for a leaf: $1 is the subjectAltName value.
_leaf_ext() {
	printf '%s\n' \
	    'basicConstraints = critical, CA:FALSE' \
	    'keyUsage = critical, digitalSignature' \
	    'extendedKeyUsage = serverAuth' \
	    "subjectAltName = $1"
}

# Make an EC P-256 key in $1.
_mkkey() {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	    -out "$1" 2>/dev/null
}

# Make a self-signed CA: $1 base path (writes $1.pem, $1.key), $2 CN.
_mkroot() {
	_mkkey "$1.key" &&
	openssl req -x509 -new -key "$1.key" -out "$1.pem" -days 2 \
	    -subj "/CN=$2" \
	    -addext 'basicConstraints = critical, CA:TRUE' \
	    -addext 'keyUsage = critical, keyCertSign, cRLSign' \
	    2>/dev/null
}

# Make a leaf signed by the CA in $1 (ca.pem/ca.key): $2 base path, $3 CN,
# $4 subjectAltName value.
_mkleaf() {
	local dir=$1 base=$2 cn=$3 san=$4

	_mkkey "$base.key" &&
	openssl req -new -key "$base.key" -subj "/CN=$cn" \
	    -out "$base.csr" 2>/dev/null &&
	openssl x509 -req -in "$base.csr" -CA "$dir/ca.pem" \
	    -CAkey "$dir/ca.key" -set_serial "0x$(openssl rand -hex 8)" \
	    -days 2 -extfile <(_leaf_ext "$san") -out "$base.pem" \
	    2>/dev/null &&
	rm -f "$base.csr"
}

# Make a leaf signed by the CA whose validity ended long ago.  openssl x509
# cannot back-date, so this goes through a throwaway `openssl ca` setup.
_mkexpired() {
	local dir=$1 ca=$1/expired-ca

	mkdir -p "$ca" && : > "$ca/index.txt" && echo 01 > "$ca/serial" &&
	cat > "$ca/ca.cnf" <<-EOF &&
	[ca]
	default_ca = test
	[test]
	database = $ca/index.txt
	serial = $ca/serial
	new_certs_dir = $ca
	certificate = $dir/ca.pem
	private_key = $dir/ca.key
	default_md = sha256
	policy = anything
	copy_extensions = none
	unique_subject = no
	[anything]
	commonName = supplied
	[leaf]
	$(_leaf_ext 'IP:127.0.0.1, DNS:localhost')
	EOF
	_mkkey "$dir/expired.key" &&
	openssl req -new -key "$dir/expired.key" -subj /CN=127.0.0.1 \
	    -out "$ca/expired.csr" 2>/dev/null &&
	openssl ca -batch -config "$ca/ca.cnf" -extensions leaf -notext \
	    -startdate 20000101000000Z \
	    -enddate 20010101000000Z -in "$ca/expired.csr" \
	    -out "$dir/expired.pem" 2>/dev/null &&
	rm -rf "$ca"
}

# mkca DIR: make a test CA and server certificates (EC P-256) in DIR:
# ca.pem/.key, server.pem/.key (127.0.0.1 and localhost), wrongname.pem/.key
# (example.invalid only), selfsigned.pem/.key, expired.pem/.key (signed by
# the CA, valid only in 2000) and otherca.pem/.key (an unrelated CA).
mkca() {
	local dir=$1

	if ! { mkdir -p "$dir" &&
	    _mkroot "$dir/ca" "allowsync test CA" &&
	    _mkleaf "$dir" "$dir/server" 127.0.0.1 \
	    'IP:127.0.0.1, DNS:localhost' &&
	    _mkleaf "$dir" "$dir/wrongname" example.invalid \
	    'DNS:example.invalid' &&
	    _mkkey "$dir/selfsigned.key" &&
	    openssl req -x509 -new -key "$dir/selfsigned.key" \
	    -out "$dir/selfsigned.pem" -days 2 -subj /CN=127.0.0.1 \
	    -addext 'subjectAltName = IP:127.0.0.1, DNS:localhost' \
	    2>/dev/null &&
	    _mkexpired "$dir" &&
	    _mkroot "$dir/otherca" "allowsync unrelated CA"; }; then
		echo "mkca: could not make test certificates in $dir" >&2
		return 1
	fi
}

# start_server ROOT CERT KEY [PORT]: serve ROOT over HTTPS on 127.0.0.1 in
# the current network namespace, on PORT or any free port.  Waits up to 5 s
# for the port; exports SERVER_PORT, SERVER_PID and SERVER_LOG (one JSON
# line per request).
start_server() {
	local root=$1 cert=$2 key=$3 port=${4:-0} state

	state=$(mktemp -d "${T:-/tmp}/server.XXXXXX") || return 1
	SERVER_LOG=$state/requests.log
	: > "$SERVER_LOG"
	python3 "$LIB_DIR/https_server.py" --root "$root" --cert "$cert" \
	    --key "$key" --port "$port" --port-file "$state/port" \
	    --log "$SERVER_LOG" &
	SERVER_PID=$!
	for _ in $(seq 50); do
		if [ -s "$state/port" ]; then
			SERVER_PORT=$(cat "$state/port")
			export SERVER_PORT SERVER_PID SERVER_LOG
			return 0
		fi
		kill -0 "$SERVER_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "start_server: server did not start" >&2
	stop_server
	return 1
}

# stop_server: stop the server start_server started, if any.
stop_server() {
	if [ -n "${SERVER_PID:-}" ]; then
		kill "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
		SERVER_PID=
	fi
	return 0
}
