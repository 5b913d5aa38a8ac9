#!/usr/bin/env bash
# make bench: run bench/bench.py in a private network namespace, so the
# benchmark's sets and the nft baseline never touch the host's ruleset.
set -eu
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
for tool in iprange strace; do
	command -v $tool > /dev/null || {
		echo "bench: needs $tool (apt-get install -y $tool)" >&2
		exit 1
	}
done
[ "$(id -u)" == 0 ] || { echo "bench: run as root" >&2; exit 1; }
echo "machine: $(nproc) CPUs, $(uname -r), $(nft --version)"
exec unshare -n python3 "$HERE/bench.py" "$@"
