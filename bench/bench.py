#!/usr/bin/env python3
"""allowsync benchmark: allowsync against nft -f and iprange, side by side.

Run by `make bench` inside a private network namespace (bench/run.sh), so
the host's ruleset is never touched.  Two shapes of list, each at every
size:

  mixed   random public IPv4 prefixes /20 to /32 with overlaps, adjacencies
          and 5% duplicates, and about 10% IPv6 /48s;
  sorted  nft's best case: sorted, non-adjacent IPv4 /24s, one element
          each, nothing to merge (IPv4 only).

For each, served from a local HTTPS server with a test CA as in
production, it measures in one run:

  1. the initial sync into empty sets: allowsync vs `nft -f` loading the
     same final elements (plain, without allowsync's comments, into a
     ruleset without allowsync's big set, which nft would read first);
  2. an update where 1% of the entries changed: allowsync (nothing else
     touched the ruleset since its last run, so it may skip the dump) vs
     `nft -f` with `flush set` + `add element` of the whole new list;
     three of each, to the new list, back and to it again, and the
     median of each tool's three;
  3. a --dry-run of the same list right after that sync (the list is
     fetched again, not answered with a 304);
  4. normalisation alone: bench/normalise vs `iprange --optimize`;
  5. the floor under the initial sync and the update, for any tool: the
     kernel's time in allowsync's transaction (its sendmsg(2) under
     strace, for two more updates and three loads into new sets) plus
     a bare GET of the list; the goals say what ratio that floor allows;

and finally a typical 10-entry run from the same server, interleaved with
a bare libcurl GET of the same URL (bench/curlget: the floor that libcurl
itself sets).  CPU time and peak RSS come from wait4(2) rusage of each
child (bench/runstat).  It checks that both tools left identical ranges,
prints the tables, then every goal with its ratio and PASS or MISS.

usage: bench.py ALLOWSYNC NORMALISE SETDIGEST RUNSTAT CURLGET [SIZES...]

BENCH_ALLOWSYNC_ARGS in the environment adds options to every allowsync
run (--annotate=no measures what element comments cost).
"""

import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time

RUNSTAT = None      # bench/runstat, from the command line
CURLGET = None      # bench/curlget, from the command line
TYPICAL_RUNS = 21   # steady-state runs of the typical case (odd: a median)
UPDATE_RUNS = 3     # 1% updates of each size and shape (odd: a median)
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


def by_median_wall(runs, pick):
    """The run() result of median wall time among runs, with the RSS
    that pick (max or min) chooses among them all."""
    mid = sorted(runs)[len(runs) // 2]
    return (mid[0], mid[1], pick(r[2] for r in runs), mid[3])


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


def mixed_update(entries, n):
    """The mixed list with 1% of its entries replaced by new ones."""
    rnd = random.Random(n + 1)
    upd = list(entries)
    for i in rnd.sample(range(n), max(1, n // 100)):
        upd[i] = gen_list(1, rnd.getrandbits(32))[0]
    return upd


SORTED_STEP = 1024   # a /24 every 1024 addresses: never adjacent


def sorted_list(n, moved=()):
    """nft's best case: n sorted /24s, one every SORTED_STEP addresses.
    Entries whose index is in moved sit 512 addresses higher: still
    sorted, still apart, but a different element."""
    per = (1 << 24) // SORTED_STEP
    out = []
    for i in range(n):
        a = (OCTETS[i // per] << 24) | (i % per) * SORTED_STEP
        if i in moved:
            a += 512
        out.append("%d.%d.%d.0/24" % (a >> 24, a >> 16 & 255, a >> 8 & 255))
    return out


def sorted_update(entries, n):
    """The sorted list with 1% of its entries moved."""
    rnd = random.Random(n + 1)
    return sorted_list(n, set(rnd.sample(range(n), max(1, n // 100))))


SHAPES = (("mixed", gen_list, mixed_update),
          ("sorted /24", lambda n, seed: sorted_list(n), sorted_update))


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


def plain(include):
    """allowsync's include file, retargeted at table nftb, without the
    element comments: the elements as nft loads them fastest."""
    return re.sub(r' comment "[^"]*"', "",
                  include.replace(" inet filter ", " inet nftb "))


def fmt(x):
    return "%.2f" % x


class Bench:
    def __init__(self, allowsync, normalise, setdigest):
        self.allowsync = allowsync
        self.normalise = normalise
        self.setdigest = setdigest
        self.tmp = tempfile.mkdtemp(prefix="allowsync-bench.")
        self.www = os.path.join(self.tmp, "www")
        os.makedirs(self.www)
        self.ca = os.path.join(self.tmp, "ca")
        self.srv = None
        self.base = None
        self.rows = []
        self.goals = []

    def serve(self):
        """Start the local HTTPS server over self.www."""
        subprocess.run(["bash", "-c", '. "%s/tests/lib.sh" && mkca "%s"'
                        % (ROOT, self.ca)], check=True)
        portf = os.path.join(self.tmp, "port")
        self.srv = subprocess.Popen([sys.executable,
                                     os.path.join(ROOT,
                                                  "tests/https_server.py"),
                                     "--root", self.www,
                                     "--cert", self.ca + "/server.pem",
                                     "--key", self.ca + "/server.key",
                                     "--port-file", portf])
        for _ in range(200):
            if os.path.exists(portf):
                break
            time.sleep(0.05)
        self.base = "https://127.0.0.1:%s/" % open(portf).read().strip()

    def allowsync_argv(self, url, state, extra=()):
        conf = os.path.join(self.tmp, "empty.conf")
        open(conf, "w").close()
        return ([self.allowsync, "-c", conf, "-q", "--url", url,
                 "--ca-file", self.ca + "/ca.pem",
                 "--state-dir", state, "--max-entries", "2000000",
                 "--max-bytes", str(256 << 20), "--min-prefix4", "8",
                 "--remove-after", "1", "--max-remove-percent", "100"]
                + list(extra)
                + os.environ.get("BENCH_ALLOWSYNC_ARGS", "").split())

    def allowsync_run(self, url, state, extra=()):
        return run(self.allowsync_argv(url, state, extra))

    def kernel_time(self, url, state):
        """Run allowsync once under strace and return how long its
        batch's sendmsg(2) took: the kernel runs the whole transaction,
        element operations and commit, before that call returns."""
        out = os.path.join(self.tmp, "strace.out")
        run(["strace", "-f", "--seccomp-bpf", "-qq", "-T", "-e",
             "trace=sendmsg", "-o", out]
            + self.allowsync_argv(url, state))
        with open(out) as f:
            times = [float(m) for m in
                     re.findall(r"sendmsg\(.*<([0-9.]+)>$", f.read(), re.M)]
        if len(times) != 1:
            sys.exit("bench: expected one batch sendmsg under strace, "
                     "found %d (see %s)" % (len(times), out))
        os.unlink(out)
        return times[0]

    def floors(self, url, state, lst, entries, upd):
        """The least any tool could take for the update and for the
        initial load: the kernel's part of allowsync's transaction, which
        carries nothing but the change, and a bare GET of the list
        (bench/curlget).  Two more updates (back, and to upd again, as
        far apart as the measured ones), then the median of three
        initial loads into new sets.  Returns (update floor, initial floor, their
        kernel parts, the GET)."""
        k_upd = []
        for e in (entries, upd):
            write_list(lst, e)
            time.sleep(1.1)
            k_upd.append(self.kernel_time(url, state))
        get = run([CURLGET, self.ca + "/ca.pem", url])[0]
        # Loads into new, empty sets, as the measured initial sync had;
        # the kernel's time for one moves by 1.7x from load to load, so
        # the median of UPDATE_RUNS counts.
        k_inits = []
        for _ in range(UPDATE_RUNS):
            nft("delete table inet filter\n" + SETS % "filter")
            time.sleep(1.1)
            k_inits.append(self.kernel_time(url, state))
        k_init = sorted(k_inits)[len(k_inits) // 2]
        k_u = sum(k_upd) / len(k_upd)
        return k_u + get, k_init + get, k_u, k_init, get

    def digest(self, table):
        out = subprocess.run([self.setdigest, "-r", "inet", table,
                              "docplanner_v4", "docplanner_v6"],
                             check=True, capture_output=True).stdout
        return out.decode().strip()

    def size(self, shape, n):
        name, make, update = shape
        d = os.path.join(self.tmp, str(n))
        os.makedirs(d)
        state = os.path.join(d, "state")
        entries = make(n, n)
        lst = os.path.join(self.www, "list.txt")
        write_list(lst, entries)
        url = self.base + "list.txt"
        nft("flush ruleset\n" + SETS % "filter" + SETS % "nftb")

        # allowsync: initial sync, then UPDATE_RUNS 1% updates, to the
        # updated list and back (no other commit in between, as on a
        # quiet host; more than a second apart, so that the kernel's
        # commit walks for garbage every time), then a dry run of the
        # updated list, fetched again (a blank line at its end changes
        # its ETag).
        a_init = self.allowsync_run(url, state)
        include = open(os.path.join(state, "allowsync.nft")).read()
        upd = update(entries, n)
        a_upds = []
        for i in range(UPDATE_RUNS):
            write_list(lst, upd if i % 2 == 0 else entries)
            time.sleep(1.1)
            a_upds.append(self.allowsync_run(url, state))
        include2 = open(os.path.join(state, "allowsync.nft")).read()
        with open(lst, "a") as f:
            f.write("\n")
        a_dry = self.allowsync_run(url, state, ["--dry-run"])
        floor = self.floors(url, state, lst, entries, upd)

        # nft -f: the same final elements, plain (nft's best case), then
        # a full replace.  allowsync's table goes first: nft reads the
        # whole ruleset before it loads a file, and a set of a million
        # elements in it would cost nft a dump on every run.
        mine = self.digest("filter")
        nft("delete table inet filter")
        f1 = os.path.join(d, "init.nft")
        with open(f1, "w") as f:
            f.write(plain(include))
        n_init = run(["nft", "-f", f1])
        flush = ("flush set inet nftb docplanner_v4\n"
                 "flush set inet nftb docplanner_v6\n")
        f2 = os.path.join(d, "update.nft")
        with open(f2, "w") as f:
            f.write(flush + plain(include2))
        f3 = os.path.join(d, "back.nft")
        with open(f3, "w") as f:
            f.write(flush + plain(include))
        n_upds = [run(["nft", "-f", f2 if i % 2 == 0 else f3])
                  for i in range(UPDATE_RUNS)]
        # Each tool's median update by wall time; its peak RSS is the
        # highest (allowsync) or lowest (nft) of them all.
        a_upd = by_median_wall(a_upds, max)
        n_upd = by_median_wall(n_upds, min)
        same = mine == self.digest("nftb")
        ranges = sum(int(x) for x in mine.split()[:2])

        # Normalisation alone, IPv4 only (iprange knows no IPv6).
        l4 = os.path.join(d, "list4.txt")
        write_list(l4, [e for e in upd if ":" not in e])
        a_norm = run([self.normalise, l4])
        i_norm = run(["iprange", "--optimize", l4])

        nft("flush ruleset")
        shutil.rmtree(d)
        os.unlink(lst)
        self.rows.append((name, n, a_init, n_init, a_upd, n_upd, a_dry,
                          a_norm, i_norm, same, ranges, floor))

    def typical(self):
        entries = gen_list(10, 10)
        with open(os.path.join(self.www, "list.json"), "w") as f:
            f.write('{"API": [%s]}' % ", ".join('"%s"' % e for e in entries))
        url = self.base + "list.json"
        nft("flush ruleset\n" + SETS % "filter")
        state = os.path.join(self.tmp, "typical")
        try:
            first = self.allowsync_run(url, state)
            # Steady state and the floor, interleaved so that both see the
            # same machine; each figure is a median over TYPICAL_RUNS.
            again, floor = [], []
            for _ in range(TYPICAL_RUNS):
                again.append(self.allowsync_run(url, state))
                floor.append(run([CURLGET, self.ca + "/ca.pem", url]))
        finally:
            nft("flush ruleset")
        return first, again, floor

    def goal(self, name, value, target, passed, note=None):
        self.goals.append((name, value, target, passed, note))

    def report_rows(self):
        print()
        print("| shape | size | step | allowsync s | nft s | speed-up | "
              "allowsync RSS MiB | nft RSS MiB | RSS ratio |")
        print("|---|---|---|---|---|---|---|---|---|")
        for (name, n, a_i, n_i, a_u, n_u, a_d, a_n, i_n, same,
             ranges, floor) in self.rows:
            for step, a, b in (("initial sync", a_i, n_i),
                               ("1% update", a_u, n_u)):
                print("| %s | %d | %s | %s | %s | %.1fx | %.1f | %.1f | "
                      "1/%.0f |" % (name, n, step, fmt(a[0]), fmt(b[0]),
                                    b[0] / a[0], a[2], b[2], b[2] / a[2]))
            print("| %s | %d | --dry-run after the update | %s | | %.1fx "
                  "the update | %.1f | | |" % (name, n, fmt(a_d[0]),
                                               a_d[0] / a_u[0], a_d[2]))
            print("| %s | %d | normalise (vs iprange --optimize) | %s | "
                  "%s | %.1fx | %.1f | %.1f | |"
                  % (name, n, fmt(a_n[0]), fmt(i_n[0]), i_n[0] / a_n[0],
                     a_n[2], i_n[2]))
            print("| %s | %d | sets identical (%d ranges) | %s | | | | | |"
                  % (name, n, ranges, "yes" if same else "NO"))
            f_u, f_i, k_u, k_i, get = floor
            for step, f, k, b in (("initial", f_i, k_i, n_i),
                                  ("update", f_u, k_u, n_u)):
                print("| %s | %d | floor of the %s: kernel %s + bare GET "
                      "%s | %s | %s | %.1fx at most | | | |"
                      % (name, n, step, fmt(k), fmt(get), fmt(f),
                         fmt(b[0]), b[0] / f))
            self.row_goals(name, n, a_i, n_i, a_u, n_u, a_d, a_n, i_n,
                           same, floor)

    def row_goals(self, name, n, a_i, n_i, a_u, n_u, a_d, a_n, i_n, same,
                  floor):
        what = "%s %d" % (name, n)
        if n == 1000000:
            # The ceiling: what the ratio would be if the tool spent no
            # time at all beyond the kernel's transaction and the GET.
            self.goal(what + ": initial sync vs nft -f", n_i[0] / a_i[0],
                      ">= 6x", n_i[0] / a_i[0] >= 6,
                      "floor allows %.1fx" % (n_i[0] / floor[1]))
            self.goal(what + ": 1% update vs nft flush + reload",
                      n_u[0] / a_u[0], ">= 20x", n_u[0] / a_u[0] >= 20,
                      "floor allows %.1fx" % (n_u[0] / floor[0]))
            peak = max(a_i[2], a_u[2])
            self.goal(what + ": peak RSS vs nft's (1/N)",
                      min(n_i[2], n_u[2]) / peak, ">= 10",
                      peak * 10 <= min(n_i[2], n_u[2]))
            self.goal(what + ": --dry-run after the sync vs that sync",
                      a_d[0] / a_u[0], "<= 3x", a_d[0] <= 3 * a_u[0])
        self.goal(what + ": normalise vs iprange --optimize",
                  i_n[0] / a_n[0], ">= 0.95x", a_n[0] <= i_n[0] * 1.05)
        self.goal(what + ": identical ranges", 1.0 if same else 0.0,
                  "1", same)

    def report_typical(self, first, again, floor):
        cpu, rss = median(again, 1), median(again, 2)
        f_cpu, f_rss = median(floor, 1), median(floor, 2)
        print()
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
                                        (cpu - f_cpu) * 1000, rss - f_rss))
        self.goal("typical run CPU vs bare libcurl GET (medians)",
                  cpu / f_cpu, "<= 1.2x", cpu <= 1.2 * f_cpu)
        self.goal("typical run peak RSS, MB (median)", rss * 1.048576,
                  "<= 10", rss * 1024 * 1024 <= 10e6)

    def report_goals(self):
        print()
        ok = 0
        for name, value, target, passed, note in self.goals:
            print("goal: %s: %.2f (%s): %s%s"
                  % (name, value, target, "PASS" if passed else "MISS",
                     " (%s)" % note if note else ""))
            ok += passed
        print("bench: %d goals passed, %d missed"
              % (ok, len(self.goals) - ok))

    def run(self, sizes):
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
        try:
            self.serve()
            for n in sizes:
                for shape in SHAPES:
                    print("bench: %s, %d entries..." % (shape[0], n),
                          file=sys.stderr)
                    self.size(shape, n)
            first, again, floor = self.typical()
            self.report_rows()
            print()
            print("memory (allowsync peak RSS, initial sync): " + ", ".join(
                "%s %d: %.1f MiB" % (r[0], r[1], r[2][2]) for r in self.rows))
            self.report_typical(first, again, floor)
            self.report_goals()
        finally:
            if self.srv:
                self.srv.terminate()
                self.srv.wait()
            shutil.rmtree(self.tmp, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) < 6:
        sys.exit(__doc__)
    RUNSTAT, CURLGET = [os.path.abspath(a) for a in sys.argv[4:6]]
    sizes = [int(s) for s in sys.argv[6:]] or [10000, 100000, 1000000]
    Bench(*[os.path.abspath(a) for a in sys.argv[1:4]]).run(sizes)
