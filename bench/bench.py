#!/usr/bin/env python3
"""allowsync benchmark: allowsync against nft -f and iprange, side by side.

Run by `make bench` inside a private network namespace (bench/run.sh), so
the host's ruleset is never touched.  For each size it generates a list of
random public IPv4 prefixes (with overlaps and duplicates) and some IPv6,
then measures, in one run:

  1. the initial sync into empty sets: allowsync vs `nft -f` loading the
     same final elements (allowsync's own include file);
  2. an update where 1% of the entries changed: allowsync (nothing else
     touched the ruleset since its last run, so it may skip the dump) vs
     `nft -f` with `flush set` + `add element` of the whole new list;
  3. normalisation alone: bench/normalise vs `iprange --optimize`;

and finally a typical 10-entry run from a local HTTPS server, beside a
bare libcurl GET of the same URL (bench/curlget: the floor that libcurl
itself sets).  CPU time and peak RSS come from wait4(2) rusage of each
child (bench/runstat).  It checks that both tools left identical set
contents, and prints the ratios.

usage: bench.py ALLOWSYNC NORMALISE SETDIGEST RUNSTAT CURLGET [SIZES...]

BENCH_ALLOWSYNC_ARGS in the environment adds options to every allowsync
run (--annotate=no measures what element comments cost).
"""

import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

RUNSTAT = None      # bench/runstat, from the command line
CURLGET = None      # bench/curlget, from the command line
TYPICAL_RUNS = 21   # steady-state runs of the typical case (odd: a median)
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# First octets of public IPv4 space, avoiding every range allowsync's
# policy rejects (private, shared, loopback, documentation, multicast...).
OCTETS = [o for o in range(11, 224) if o not in
          (100, 127, 169, 172, 192, 198, 203)]


def run(argv, stdout=subprocess.DEVNULL, check=True):
    """Run argv; return (wall s, user+sys s, peak RSS MiB, exit code).

    bench/runstat forks and measures: a child forked from this Python
    process would report Python's own RSS as its peak (Linux keeps the
    high-water mark across exec), and GNU time would add its own start-up
    to the CPU time."""
    with tempfile.NamedTemporaryFile("r") as tf, \
            tempfile.TemporaryFile() as errf:
        p = subprocess.run([RUNSTAT, tf.name] + argv, stdout=stdout,
                           stderr=errf)
        errf.seek(0)
        err = errf.read().decode(errors="replace")
        if p.returncode != 0:
            sys.exit("bench: runstat failed:\n%s" % err)
        wall, cpu, rss, code = tf.read().split()
    if check and int(code) != 0:
        sys.exit("bench: %s exited %s:\n%s" % (" ".join(argv), code, err))
    return float(wall), float(cpu), int(rss) / 1024.0, int(code)


def median(runs, i):
    """The median of field i (1: CPU s, 2: RSS MiB) over run() results."""
    v = sorted(r[i] for r in runs)
    return v[len(v) // 2]


def gen_list(n, seed):
    """n entries: ~90% IPv4 (/20-/32, 5% duplicates), ~10% IPv6."""
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        if out and rnd.random() < 0.05:
            out.append(rnd.choice(out))
            continue
        if rnd.random() < 0.9:
            plen = rnd.choice((20, 22, 24, 24, 24, 26, 28, 32, 32))
            a = (rnd.choice(OCTETS) << 24) | rnd.getrandbits(24)
            a &= (0xffffffff << (32 - plen)) & 0xffffffff
            s = "%d.%d.%d.%d" % (a >> 24, a >> 16 & 255, a >> 8 & 255,
                                 a & 255)
            out.append(s if plen == 32 else "%s/%d" % (s, plen))
        else:
            g = rnd.getrandbits(32)
            out.append("2a01:%x:%x::/48" % (g >> 16, g & 0xffff))
    return out


def write_list(path, entries):
    with open(path, "w") as f:
        f.write("\n".join(entries))
        f.write("\n")


def nft(script):
    subprocess.run(["nft", "-f", "-"], input=script.encode(), check=True)


SETS = """table inet %s {
    set docplanner_v4 { type ipv4_addr; flags interval; }
    set docplanner_v6 { type ipv6_addr; flags interval; }
}
"""


def fmt(x):
    return "%.2f" % x


class Bench:
    def __init__(self, allowsync, normalise, setdigest):
        self.allowsync = allowsync
        self.normalise = normalise
        self.setdigest = setdigest
        self.tmp = tempfile.mkdtemp(prefix="allowsync-bench.")
        self.rows = []
        self.goals = []

    def allowsync_run(self, url, state, extra=()):
        conf = os.path.join(self.tmp, "empty.conf")
        open(conf, "w").close()
        return run([self.allowsync, "-c", conf, "-q", "--url", url,
                    "--state-dir", state, "--max-entries", "2000000",
                    "--max-bytes", str(256 << 20), "--min-prefix4", "8",
                    "--remove-after", "1", "--max-remove-percent", "100"]
                   + list(extra)
                   + os.environ.get("BENCH_ALLOWSYNC_ARGS", "").split())

    def digest(self, table):
        out = subprocess.run([self.setdigest, "inet", table,
                              "docplanner_v4", "docplanner_v6"],
                             check=True, capture_output=True).stdout
        return out.decode().strip()

    def size(self, n):
        d = os.path.join(self.tmp, str(n))
        os.makedirs(d)
        state = os.path.join(d, "state")
        entries = gen_list(n, n)
        lst = os.path.join(d, "list.txt")
        write_list(lst, entries)
        # A file:// URL not ending in .json: the text form, read directly.
        url = "file://" + lst
        nft("flush ruleset\n" + SETS % "filter" + SETS % "nftb")

        # allowsync: initial sync, then a 1% update (no other commit
        # in between, as on a quiet host).
        a_init = self.allowsync_run(url, state)
        include = open(os.path.join(state, "allowsync.nft")).read()
        rnd = random.Random(n + 1)
        upd = list(entries)
        for i in rnd.sample(range(n), max(1, n // 100)):
            upd[i] = gen_list(1, rnd.getrandbits(32))[0]
        write_list(lst, upd)
        a_upd = self.allowsync_run(url, state)
        include2 = open(os.path.join(state, "allowsync.nft")).read()

        # nft -f: the same final elements, then a full replace.
        f1 = os.path.join(d, "init.nft")
        with open(f1, "w") as f:
            f.write(include.replace(" inet filter ", " inet nftb "))
        n_init = run(["nft", "-f", f1])
        f2 = os.path.join(d, "update.nft")
        with open(f2, "w") as f:
            f.write("flush set inet nftb docplanner_v4\n"
                    "flush set inet nftb docplanner_v6\n")
            f.write(include2.replace(" inet filter ", " inet nftb "))
        n_upd = run(["nft", "-f", f2])
        same = self.digest("filter") == self.digest("nftb")

        # Normalisation alone, IPv4 only (iprange knows no IPv6).
        l4 = os.path.join(d, "list4.txt")
        write_list(l4, [e for e in upd if ":" not in e])
        a_norm = run([self.normalise, l4])
        i_norm = run(["iprange", "--optimize", l4])

        nft("flush ruleset")
        shutil.rmtree(d)
        ranges = include2.count("\n") - include2.count("{") * 2 - 3
        self.rows.append((n, a_init, n_init, a_upd, n_upd, a_norm, i_norm,
                          same, ranges))

    def typical(self):
        d = os.path.join(self.tmp, "typical")
        www = os.path.join(d, "www")
        os.makedirs(www)
        subprocess.run(["bash", "-c", '. "%s/tests/lib.sh" && mkca "%s/ca"'
                        % (ROOT, d)], check=True)
        entries = gen_list(10, 10)
        with open(os.path.join(www, "list.json"), "w") as f:
            f.write('{"API": [%s]}' % ", ".join('"%s"' % e for e in entries))
        portf = os.path.join(d, "port")
        srv = subprocess.Popen([sys.executable,
                                os.path.join(ROOT, "tests/https_server.py"),
                                "--root", www, "--cert", d + "/ca/server.pem",
                                "--key", d + "/ca/server.key",
                                "--port-file", portf])
        try:
            for _ in range(100):
                if os.path.exists(portf):
                    break
                time.sleep(0.05)
            port = open(portf).read().strip()
            url = "https://127.0.0.1:%s/list.json" % port
            nft("flush ruleset\n" + SETS % "filter")
            state = os.path.join(d, "state")
            extra = ["--ca-file", d + "/ca/ca.pem"]
            first = self.allowsync_run(url, state, extra)
            # Steady state and the floor, interleaved so that both see the
            # same machine; each figure is a median over TYPICAL_RUNS.
            again, floor = [], []
            for _ in range(TYPICAL_RUNS):
                again.append(self.allowsync_run(url, state, extra))
                floor.append(run([CURLGET, d + "/ca/ca.pem", url]))
        finally:
            srv.terminate()
            srv.wait()
            nft("flush ruleset")
        return first, again, floor

    def report(self):
        print()
        print("| size | step | allowsync s | nft s | speed-up | "
              "allowsync RSS MiB | nft RSS MiB | RSS ratio |")
        print("|---|---|---|---|---|---|---|---|")
        for (n, a_i, n_i, a_u, n_u, a_n, i_n, same, ranges) in self.rows:
            for step, a, b in (("initial sync", a_i, n_i),
                               ("1% update", a_u, n_u)):
                print("| %d | %s | %s | %s | %.1fx | %.1f | %.1f | 1/%.0f |"
                      % (n, step, fmt(a[0]), fmt(b[0]), b[0] / a[0], a[2],
                         b[2], b[2] / a[2]))
            print("| %d | normalise (vs iprange --optimize) | %s | %s | "
                  "%.1fx | %.1f | %.1f | |" % (n, fmt(a_n[0]), fmt(i_n[0]),
                                               i_n[0] / a_n[0], a_n[2],
                                               i_n[2]))
            print("| %d | sets identical (%d ranges) | %s | | | | | |"
                  % (n, ranges, "yes" if same else "NO"))
            if n == 1000000:
                self.goals.append(("1M initial sync >= 4x faster than nft",
                                   n_i[0] / a_i[0] >= 4))
                self.goals.append(("1M initial sync <= 1/10 of nft's RSS",
                                   a_i[2] * 10 <= n_i[2]))
                self.goals.append(("1M 1% update >= 20x faster than nft",
                                   n_u[0] / a_u[0] >= 20))
            self.goals.append(("%d: normalise no slower than iprange" % n,
                               a_n[0] <= i_n[0] * 1.05))
            self.goals.append(("%d: identical set contents" % n, same))
        print()
        print("memory (allowsync peak RSS, initial sync): " + ", ".join(
            "%d: %.1f MiB" % (r[0], r[1][2]) for r in self.rows))

    def run(self, sizes):
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
        try:
            for n in sizes:
                print("bench: %d entries..." % n, file=sys.stderr)
                self.size(n)
            first, again, floor = self.typical()
            self.report()
            cpu, rss = median(again, 1), median(again, 2)
            f_cpu, f_rss = median(floor, 1), median(floor, 2)
            print("typical 10-entry run over local HTTPS: first sync "
                  "%.1f ms CPU, %.2f MiB" % (first[1] * 1000, first[2]))
            print("  steady state, median of %d: %.1f ms CPU (%.1f to "
                  "%.1f), %.2f MiB peak RSS (%.2f to %.2f)"
                  % (len(again), cpu * 1000,
                     min(r[1] for r in again) * 1000,
                     max(r[1] for r in again) * 1000, rss,
                     min(r[2] for r in again), max(r[2] for r in again)))
            print("  bare libcurl GET of the same URL (bench/curlget, the "
                  "floor), median: %.1f ms CPU, %.2f MiB; allowsync adds "
                  "%.1f ms and %.2f MiB" % (f_cpu * 1000, f_rss,
                                            (cpu - f_cpu) * 1000,
                                            rss - f_rss))
            self.goals.append(("typical run <= 15 ms CPU (median)",
                               cpu <= 0.015))
            self.goals.append(("typical run <= 10 MB peak RSS (median)",
                               rss * 1024 * 1024 <= 10e6))
            print()
            ok = 0
            for name, passed in self.goals:
                print("goal: %s: %s" % (name, "met" if passed else "MISSED"))
                ok += passed
            print("bench: %d goals met, %d missed" % (ok, len(self.goals) - ok))
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) < 6:
        sys.exit(__doc__)
    RUNSTAT, CURLGET = [os.path.abspath(a) for a in sys.argv[4:6]]
    sizes = [int(s) for s in sys.argv[6:]] or [10000, 100000, 1000000]
    Bench(*[os.path.abspath(a) for a in sys.argv[1:4]]).run(sizes)
