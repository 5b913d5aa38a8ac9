/*
 * Tests for nftset.c against the real kernel.  The process moves into a
 * private network namespace first, so every table and set here is its own
 * and the host's ruleset is never touched.  nft(8) is run only to set up
 * fixtures and to check, independently of nftset.c, what the kernel holds.
 */
#include <sys/syscall.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <errno.h>
#include <linux/capability.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>
#include <cmocka.h>

#include "testutil.h"

#define NFT_OUT_MAX	(4 * 1024 * 1024)	/* nft -j output kept */

static const struct nft_target tgt = {
	.family = "inet",
	.table = "filter",
	.set4 = "docplanner_v4",
	.set6 = "docplanner_v6"
};

static struct nftset *ns;
static char *nft_out;

/*
 * Run nft with the given arguments (NULL-terminated, argv[0] excluded).
 * Its stdout is kept in nft_out.  Returns its exit status, or -1.
 */
static int
nft_run(const char *const args[])
{
	const char *argv[32];
	size_t i, n = 0;
	ssize_t r;
	pid_t pid;
	int p[2], st;

	argv[0] = "nft";
	for (i = 0; args[i] != NULL && i + 2 < 32; i++)
		argv[i + 1] = args[i];
	argv[i + 1] = NULL;
	if (pipe(p) == -1)
		return -1;
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		dup2(p[1], STDOUT_FILENO);
		close(p[0]);
		close(p[1]);
		execvp("nft", (char *const *)argv);
		_exit(127);
	}
	close(p[1]);
	while ((r = read(p[0], nft_out + n, NFT_OUT_MAX - 1 - n)) > 0)
		n += (size_t)r;
	nft_out[n] = '\0';
	close(p[0]);
	if (waitpid(pid, &st, 0) == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

#define NFT(...)	nft_run((const char *const[]){ __VA_ARGS__, NULL })

/*
 * The elements of a set as nft -j shows them, joined by " ", with the set
 * type and flags first: "ipv4_addr interval: 10.0.0.0/8 192.0.2.1".
 * Returns a static buffer.
 */
static const char *
nft_elems(const char *set)
{
	static char out[65536];
	cJSON *root, *arr, *it, *s, *e, *x;
	char item[128];

	out[0] = '\0';
	if (NFT("-j", "list", "set", "inet", "filter", set) != 0)
		return "(nft failed)";
	if ((root = cJSON_Parse(nft_out)) == NULL)
		return "(bad json)";
	arr = cJSON_GetObjectItem(root, "nftables");
	cJSON_ArrayForEach(it, arr) {
		if ((s = cJSON_GetObjectItem(it, "set")) == NULL)
			continue;
		strcat(out, cJSON_GetStringValue(cJSON_GetObjectItem(s,
		    "type")));
		cJSON_ArrayForEach(x, cJSON_GetObjectItem(s, "flags")) {
			strcat(out, " ");
			strcat(out, cJSON_GetStringValue(x));
		}
		strcat(out, ":");
		cJSON_ArrayForEach(e, cJSON_GetObjectItem(s, "elem")) {
			if (cJSON_IsString(e))
				snprintf(item, sizeof(item), "%s",
				    e->valuestring);
			else if ((x = cJSON_GetObjectItem(e, "prefix")) != NULL)
				snprintf(item, sizeof(item), "%s/%d",
				    cJSON_GetStringValue(cJSON_GetObjectItem(x,
				    "addr")), cJSON_GetObjectItem(x,
				    "len")->valueint);
			else if ((x = cJSON_GetObjectItem(e, "range")) != NULL)
				snprintf(item, sizeof(item), "%s-%s",
				    cJSON_GetStringValue(cJSON_GetArrayItem(x,
				    0)), cJSON_GetStringValue(
				    cJSON_GetArrayItem(x, 1)));
			else
				snprintf(item, sizeof(item), "?");
			strcat(out, " ");
			strcat(out, item);
		}
	}
	cJSON_Delete(root);
	return out;
}

/* nftset_read() on the test's socket, for the generation only. */
static enum as_status
read_gen(const struct nft_target *t, bool create, struct rangelist *have,
    uint32_t *g)
{
	struct nft_found f = { 0 };
	enum as_status st;

	st = nftset_read(ns, t, create ? NFT_CREATE_YES : NFT_CREATE_NO,
	    have, &f);
	*g = f.genid;
	free(f.odd);
	return st;
}

static void
add4(struct rangelist *rl, const char *first, const char *last)
{
	struct in_addr a, b;
	struct range4 r;

	assert_int_equal(inet_pton(AF_INET, first, &a), 1);
	assert_int_equal(inet_pton(AF_INET, last, &b), 1);
	r.first = ntohl(a.s_addr);
	r.last = ntohl(b.s_addr);
	rangelist_add4(rl, &r);
}

static struct u128
v6(const char *s)
{
	uint8_t b[16];
	struct u128 v = { 0, 0 };
	int i;

	assert_int_equal(inet_pton(AF_INET6, s, b), 1);
	for (i = 0; i < 8; i++) {
		v.hi = v.hi << 8 | b[i];
		v.lo = v.lo << 8 | b[i + 8];
	}
	return v;
}

static void
add6(struct rangelist *rl, const char *first, const char *last)
{
	struct range6 r = { v6(first), v6(last) };

	rangelist_add6(rl, &r);
}

/* The ranges of rl as text, IPv4 then IPv6, joined by " ". */
static const char *
all_text(const struct rangelist *rl)
{
	static char out[65536];
	char v4[32768], v6[32768];

	ranges_text(rl, 4, v4, sizeof(v4));
	ranges_text(rl, 6, v6, sizeof(v6));
	snprintf(out, sizeof(out), "%s%s%s", v4, v4[0] && v6[0] ? " " : "",
	    v6);
	return out;
}

/* Read the target and return its ranges as text; the read must work. */
static const char *
read_text(uint32_t *genid)
{
	struct rangelist have;
	uint32_t g;
	const char *s;

	rangelist_init(&have);
	assert_int_equal(read_gen(&tgt, false, &have, &g), AS_OK);
	s = all_text(&have);
	rangelist_free(&have);
	if (genid != NULL)
		*genid = g;
	return s;
}

/* Create the table and both sets through nftset_read(create). */
static void
create_sets(void)
{
	struct rangelist have;
	uint32_t g;

	rangelist_init(&have);
	assert_int_equal(read_gen(&tgt, true, &have, &g), AS_OK);
	rangelist_free(&have);
}

/* Commit p on top of a fresh read; returns the status. */
static enum as_status
commit_plan(const struct plan *p, uint32_t *newgen)
{
	uint32_t genid;

	read_text(&genid);
	return nftset_commit(ns, &tgt, p, genid, newgen);
}

static int
setup(void **state)
{
	(void)state;
	if (NFT("flush", "ruleset") != 0)
		return -1;
	return nftset_open(&ns) == AS_OK ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	nftset_close(ns);
	ns = NULL;
	return 0;
}

static void
test_missing_table(void **state)
{
	struct rangelist have;
	const char *log;
	uint32_t g;

	(void)state;
	rangelist_init(&have);
	capture_start();
	assert_int_equal(read_gen(&tgt, false, &have, &g),
	    AS_EUNAVAIL);
	log = capture_end();
	assert_non_null(strstr(log, "table inet filter does not exist"));
	assert_non_null(strstr(log, "nft add table inet filter"));
	assert_non_null(strstr(log, "nft add set inet filter docplanner_v4 "
	    "'{ type ipv4_addr; flags interval; }'"));
	assert_non_null(strstr(log, "nft add set inet filter docplanner_v6 "
	    "'{ type ipv6_addr; flags interval; }'"));
	assert_int_not_equal(NFT("list", "table", "inet", "filter"), 0);
	rangelist_free(&have);
}

static void
test_missing_set(void **state)
{
	struct rangelist have;
	const char *log;
	uint32_t g;

	(void)state;
	assert_int_equal(NFT("add", "table", "inet", "filter"), 0);
	assert_int_equal(NFT("add", "set", "inet", "filter", "docplanner_v4",
	    "{ type ipv4_addr; flags interval; }"), 0);
	rangelist_init(&have);
	capture_start();
	assert_int_equal(read_gen(&tgt, false, &have, &g),
	    AS_EUNAVAIL);
	log = capture_end();
	assert_non_null(strstr(log,
	    "set inet filter docplanner_v6 does not exist"));
	assert_null(strstr(log, "docplanner_v4 does not exist"));
	assert_null(strstr(log, "nft add table"));
	rangelist_free(&have);
}

static void
test_create(void **state)
{
	struct rangelist have;
	uint32_t g1, g2;

	(void)state;
	rangelist_init(&have);
	assert_int_equal(read_gen(&tgt, true, &have, &g1), AS_OK);
	assert_int_equal(have.n4 + have.n6, 0);
	assert_string_equal(nft_elems("docplanner_v4"), "ipv4_addr interval:");
	assert_string_equal(nft_elems("docplanner_v6"), "ipv6_addr interval:");
	/* The generation is read after the creating commit. */
	assert_int_equal(nftset_getgen(ns, &g2), AS_OK);
	assert_int_equal(g1, g2);
	/* A second create finds everything and changes nothing. */
	assert_int_equal(read_gen(&tgt, true, &have, &g1), AS_OK);
	assert_int_equal(g1, g2);
	rangelist_free(&have);
}

static void
test_create_only_missing_set(void **state)
{
	(void)state;
	assert_int_equal(NFT("add", "table", "inet", "filter"), 0);
	assert_int_equal(NFT("add", "set", "inet", "filter", "docplanner_v4",
	    "{ type ipv4_addr; flags interval; }"), 0);
	assert_int_equal(NFT("add", "element", "inet", "filter",
	    "docplanner_v4", "{ 192.0.2.0/24 }"), 0);
	create_sets();
	assert_string_equal(nft_elems("docplanner_v4"),
	    "ipv4_addr interval: 192.0.2.0/24");
	assert_string_equal(nft_elems("docplanner_v6"), "ipv6_addr interval:");
}

/* Expect nftset_read to refuse the ruleset with a log line containing why. */
static void
expect_unavail(const struct nft_target *t, const char *why)
{
	struct rangelist have;
	const char *log;
	uint32_t g;

	rangelist_init(&have);
	capture_start();
	assert_int_equal(read_gen(t, true, &have, &g), AS_EUNAVAIL);
	log = capture_end();
	assert_non_null(strstr(log, why));
	rangelist_free(&have);
}

static void
test_wrong_key_type(void **state)
{
	(void)state;
	assert_int_equal(NFT("add", "table", "inet", "filter"), 0);
	assert_int_equal(NFT("add", "set", "inet", "filter", "docplanner_v4",
	    "{ type inet_service; flags interval; }"), 0);
	expect_unavail(&tgt, "set inet filter docplanner_v4 has type "
	    "inet_service, expected ipv4_addr");
	/* Nothing is created next to a set that is wrong. */
	assert_int_not_equal(NFT("list", "set", "inet", "filter",
	    "docplanner_v6"), 0);
	assert_int_equal(NFT("flush", "ruleset"), 0);
	assert_int_equal(NFT("add", "table", "inet", "filter"), 0);
	assert_int_equal(NFT("add", "set", "inet", "filter", "docplanner_v6",
	    "{ type ipv4_addr; flags interval; }"), 0);
	expect_unavail(&tgt, "set inet filter docplanner_v6 has type "
	    "ipv4_addr, expected ipv6_addr");
}

static void
test_not_interval(void **state)
{
	(void)state;
	assert_int_equal(NFT("add", "table", "inet", "filter"), 0);
	assert_int_equal(NFT("add", "set", "inet", "filter", "docplanner_v4",
	    "{ type ipv4_addr; }"), 0);
	expect_unavail(&tgt, "set inet filter docplanner_v4 is not an "
	    "interval set (flags interval) but prefixes need it");
}

static void
test_map_refused(void **state)
{
	(void)state;
	assert_int_equal(NFT("add", "table", "inet", "filter"), 0);
	assert_int_equal(NFT("add", "map", "inet", "filter", "docplanner_v4",
	    "{ type ipv4_addr : verdict; flags interval; }"), 0);
	expect_unavail(&tgt, "docplanner_v4 is a map or concatenation");
}

static void
test_family_mismatch(void **state)
{
	struct nft_target t = {
		.family = "ip",
		.table = "filter",
		.set4 = "docplanner_v4",
		.set6 = "docplanner_v6"
	};

	(void)state;
	expect_unavail(&t, "set ip filter docplanner_v6 cannot hold IPv6");
	t.family = "ip6";
	expect_unavail(&t, "set ip6 filter docplanner_v4 cannot hold IPv4");
	/* Nothing was created for the refused targets. */
	assert_int_not_equal(NFT("list", "table", "ip", "filter"), 0);
}

static void
test_ip_family_v4_only(void **state)
{
	struct nft_target t = {
		.family = "ip",
		.table = "fw",
		.set4 = "allow4",
		.set6 = NULL
	};
	struct rangelist have;
	struct plan p;
	uint32_t g, ng;

	(void)state;
	rangelist_init(&have);
	plan_init(&p);
	assert_int_equal(read_gen(&t, true, &have, &g), AS_OK);
	add4(&p.add, "192.0.2.0", "192.0.2.255");
	assert_int_equal(nftset_commit(ns, &t, &p, g, &ng), AS_OK);
	assert_int_equal(read_gen(&t, false, &have, &g), AS_OK);
	assert_string_equal(all_text(&have), "192.0.2.0/24");
	assert_int_equal(NFT("list", "set", "ip", "fw", "allow4"), 0);
	rangelist_free(&have);
	plan_free(&p);
}

/* The plan of the first commit: prefixes, single addresses, odd ranges. */
static void
first_plan(struct plan *p)
{
	add4(&p->add, "10.0.0.0", "10.255.255.255");
	add4(&p->add, "192.0.2.1", "192.0.2.1");
	add4(&p->add, "198.51.100.7", "198.51.100.200");
	add4(&p->add, "240.0.0.0", "255.255.255.255");
	add6(&p->add, "2001:db8::1", "2001:db8::1");
	add6(&p->add, "2001:db8:1::", "2001:db8:1:ffff:ffff:ffff:ffff:ffff");
	add6(&p->add, "2001:db8:2::5", "2001:db8:2::99");
	add6(&p->add, "ffff::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
}

static void
test_first_commit(void **state)
{
	struct plan p;
	uint32_t genid, newgen, g;

	(void)state;
	create_sets();
	plan_init(&p);
	first_plan(&p);
	assert_string_equal(read_text(&genid), "");
	assert_int_equal(nftset_commit(ns, &tgt, &p, genid, &newgen), AS_OK);
	assert_int_equal(newgen, genid + 1);
	assert_string_equal(read_text(&g), all_text(&p.add));
	assert_int_equal(g, newgen);
	assert_string_equal(nft_elems("docplanner_v4"), "ipv4_addr interval: "
	    "10.0.0.0/8 192.0.2.1 198.51.100.7-198.51.100.200 240.0.0.0/4");
	assert_string_equal(nft_elems("docplanner_v6"), "ipv6_addr interval: "
	    "2001:db8::1 2001:db8:1::/48 2001:db8:2::5-2001:db8:2::99 "
	    "ffff::/16");
	plan_free(&p);
}

static void
test_update(void **state)
{
	struct plan p;
	uint32_t newgen;

	(void)state;
	create_sets();
	plan_init(&p);
	first_plan(&p);
	assert_int_equal(commit_plan(&p, &newgen), AS_OK);
	plan_free(&p);

	/* Replace ranges that share a start key with their successors. */
	plan_init(&p);
	add4(&p.del, "10.0.0.0", "10.255.255.255");
	add4(&p.del, "240.0.0.0", "255.255.255.255");
	add6(&p.del, "2001:db8::1", "2001:db8::1");
	add4(&p.add, "10.0.0.0", "10.0.255.255");
	add4(&p.add, "203.0.113.0", "203.0.113.127");
	add4(&p.add, "255.255.255.255", "255.255.255.255");
	add6(&p.add, "2001:db8::", "2001:db8::ff");
	assert_int_equal(commit_plan(&p, &newgen), AS_OK);
	assert_string_equal(read_text(NULL), "10.0.0.0/16 192.0.2.1 "
	    "198.51.100.7-198.51.100.200 203.0.113.0/25 255.255.255.255 "
	    "2001:db8::/120 2001:db8:1::/48 2001:db8:2::5-2001:db8:2::99 "
	    "ffff::/16");
	plan_free(&p);
}

static void
test_failed_delete_is_atomic(void **state)
{
	struct plan p;
	uint32_t genid, newgen, g;
	const char *log;

	(void)state;
	create_sets();
	plan_init(&p);
	add4(&p.add, "10.0.0.0", "10.255.255.255");
	assert_int_equal(commit_plan(&p, &newgen), AS_OK);
	plan_free(&p);

	plan_init(&p);
	add4(&p.del, "203.0.113.0", "203.0.113.255");
	add4(&p.add, "192.0.2.0", "192.0.2.255");
	add6(&p.add, "2001:db8::", "2001:db8::ffff");
	read_text(&genid);
	capture_start();
	assert_int_equal(nftset_commit(ns, &tgt, &p, genid, &newgen),
	    AS_EKERNEL);
	log = capture_end();
	assert_non_null(strstr(log, "kernel refused delete of 203.0.113.0/24 "
	    "in inet filter docplanner_v4: No such file or directory"));
	assert_string_equal(read_text(&g), "10.0.0.0/8");
	assert_int_equal(g, genid);
	plan_free(&p);
}

static void
test_overlap_names_element(void **state)
{
	struct plan p;
	uint32_t newgen;
	const char *log;

	(void)state;
	create_sets();
	plan_init(&p);
	add6(&p.add, "2001:db8::", "2001:db8::ffff");
	assert_int_equal(commit_plan(&p, &newgen), AS_OK);
	plan_free(&p);

	plan_init(&p);
	add6(&p.add, "2001:db8::100", "2001:db8::1ff");
	capture_start();
	assert_int_equal(commit_plan(&p, &newgen), AS_EKERNEL);
	log = capture_end();
	assert_non_null(strstr(log, "kernel refused add of "
	    "2001:db8::100/120 in inet filter docplanner_v6: File exists"));
	assert_string_equal(read_text(NULL), "2001:db8::/112");
	plan_free(&p);
}

static void
test_genid_moved(void **state)
{
	struct plan p;
	uint32_t genid, newgen, g;
	const char *log;

	(void)state;
	create_sets();
	plan_init(&p);
	add4(&p.add, "192.0.2.0", "192.0.2.255");
	read_text(&genid);
	assert_int_equal(NFT("add", "table", "inet", "other"), 0);
	log_init(LOG_LVL_INFO);
	capture_start();
	assert_int_equal(nftset_commit(ns, &tgt, &p, genid, &newgen),
	    AS_ETEMPFAIL);
	log = capture_end();
	log_init(LOG_LVL_NOTICE);
	assert_null(strstr(log, "refused"));
	assert_string_equal(read_text(&g), "");
	assert_int_equal(g, genid + 1);
	/* Re-read and retry, as the caller does. */
	assert_int_equal(nftset_commit(ns, &tgt, &p, g, &newgen), AS_OK);
	assert_int_equal(newgen, g + 1);
	assert_string_equal(read_text(NULL), "192.0.2.0/24");
	plan_free(&p);
}

/*
 * Comments: written on the start element as nft writes them (nft shows
 * them), read back as notes from our own elements and from nft's, a
 * range's renote replaces its comment in one commit, and a comment of
 * 128 bytes (nft's limit) goes through whole.
 */
static void
test_comments(void **state)
{
	static const char *want = "[{\"elem\": {\"val\": {\"prefix\": "
	    "{\"addr\": \"10.0.0.0\", \"len\": 8}}, \"comment\": "
	    "\"dp, static\"}}";
	char long_note[NOTE_MAX + 1];
	struct rangelist have;
	struct plan p;
	uint32_t newgen, g;

	(void)state;
	memset(long_note, 'x', NOTE_MAX);
	long_note[NOTE_MAX] = '\0';
	create_sets();
	plan_init(&p);
	add4(&p.add, "10.0.0.0", "10.255.255.255");
	add4(&p.add, "192.0.2.1", "192.0.2.1");
	add6(&p.add, "2001:db8::1", "2001:db8::1");
	rangelist_notes_on(&p.add);
	rangelist_set_note(&p.add, 4, 0, note_id("dp, static", 10));
	rangelist_set_note(&p.add, 4, 1, note_id(long_note, NOTE_MAX));
	rangelist_set_note(&p.add, 6, 0, note_id("stripe", 6));
	assert_int_equal(commit_plan(&p, &newgen), AS_OK);
	plan_free(&p);
	assert_int_equal(NFT("-j", "list", "set", "inet", "filter",
	    "docplanner_v4"), 0);
	assert_non_null(strstr(nft_out, want + 1));
	assert_non_null(strstr(nft_out, long_note));
	/* nft's own comment, read back. */
	assert_int_equal(NFT("add", "element", "inet", "filter",
	    "docplanner_v4", "{ 198.51.100.0/24 comment \"by hand\" }"), 0);
	rangelist_init(&have);
	assert_int_equal(read_gen(&tgt, false, &have, &g), AS_OK);
	assert_int_equal(have.n4, 3);
	assert_string_equal(note_str(rangelist_note(&have, 4, 0)),
	    "dp, static");
	assert_string_equal(note_str(rangelist_note(&have, 4, 1)), long_note);
	assert_string_equal(note_str(rangelist_note(&have, 4, 2)), "by hand");
	assert_string_equal(note_str(rangelist_note(&have, 6, 0)), "stripe");
	/* A renote changes the comment and keeps the range. */
	plan_init(&p);
	add4(&p.renote, "198.51.100.0", "198.51.100.255");
	rangelist_notes_on(&p.renote);
	rangelist_set_note(&p.renote, 4, 0, note_id("dp", 2));
	assert_int_equal(commit_plan(&p, &newgen), AS_OK);
	plan_free(&p);
	have.n4 = have.n6 = 0;
	assert_int_equal(read_gen(&tgt, false, &have, &g), AS_OK);
	assert_int_equal(have.n4, 3);
	assert_string_equal(note_str(rangelist_note(&have, 4, 2)), "dp");
	rangelist_free(&have);
}

static void
test_read_nft_filled(void **state)
{
	(void)state;
	assert_int_equal(NFT("add", "table", "inet", "filter"), 0);
	assert_int_equal(NFT("add", "set", "inet", "filter", "docplanner_v4",
	    "{ type ipv4_addr; flags interval; auto-merge; }"), 0);
	assert_int_equal(NFT("add", "set", "inet", "filter", "docplanner_v6",
	    "{ type ipv6_addr; flags interval; }"), 0);
	assert_int_equal(NFT("add", "element", "inet", "filter",
	    "docplanner_v4", "{ 0.0.0.0/8, 10.0.0.0/24, 10.0.1.0/24, "
	    "192.168.1.1, 172.16.0.0-172.16.5.255, 255.255.255.0/24 }"), 0);
	/* Without auto-merge nft stores adjacent ranges as they are. */
	assert_int_equal(NFT("add", "element", "inet", "filter",
	    "docplanner_v6", "{ ::1, 2001:db8::/32, 2001:db9::/32, "
	    "ffff::/16 }"), 0);
	assert_string_equal(read_text(NULL), "0.0.0.0/8 10.0.0.0/23 "
	    "172.16.0.0-172.16.5.255 192.168.1.1 255.255.255.0/24 ::1 "
	    "2001:db8::/32 2001:db9::/32 ffff::/16");
}

static void
test_large_commit(void **state)
{
	struct rangelist have;
	struct range4 r4;
	struct range6 r6;
	struct plan p;
	uint32_t genid, newgen, g;
	size_t i;

	(void)state;
	create_sets();
	plan_init(&p);
	for (i = 0; i < 20000; i++) {
		r4.first = 0x0a000000 + (uint32_t)i * 256;
		r4.last = r4.first + 127;
		rangelist_add4(&p.add, &r4);
	}
	for (i = 0; i < 5000; i++) {
		r6.first = v6("2001:db8::");
		r6.first.hi += (uint64_t)i << 16;
		r6.last = r6.first;
		r6.last.lo = UINT64_MAX;
		rangelist_add6(&p.add, &r6);
	}
	read_text(&genid);
	assert_int_equal(nftset_commit(ns, &tgt, &p, genid, &newgen), AS_OK);
	assert_int_equal(newgen, genid + 1);
	rangelist_init(&have);
	assert_int_equal(read_gen(&tgt, false, &have, &g), AS_OK);
	assert_int_equal(have.n4, 20000);
	assert_int_equal(have.n6, 5000);
	assert_memory_equal(have.v4, p.add.v4, 20000 * sizeof(*have.v4));
	assert_memory_equal(have.v6, p.add.v6, 5000 * sizeof(*have.v6));

	/* Delete all of it again in one transaction. */
	rangelist_free(&p.del);
	p.del = p.add;
	rangelist_init(&p.add);
	assert_int_equal(nftset_commit(ns, &tgt, &p, g, &newgen), AS_OK);
	assert_int_equal(newgen, g + 1);
	assert_string_equal(read_text(NULL), "");
	rangelist_free(&have);
	plan_free(&p);
}

static void
test_empty_plan(void **state)
{
	struct plan p;
	uint32_t genid, newgen, g;

	(void)state;
	create_sets();
	plan_init(&p);
	read_text(&genid);
	newgen = 0;
	assert_int_equal(nftset_commit(ns, &tgt, &p, genid, &newgen), AS_OK);
	assert_int_equal(newgen, genid);
	assert_int_equal(nftset_getgen(ns, &g), AS_OK);
	assert_int_equal(g, genid);
	plan_free(&p);
}

static void
test_disabled_family_in_plan(void **state)
{
	struct nft_target t = {
		.family = "inet",
		.table = "filter",
		.set4 = "docplanner_v4",
		.set6 = ""
	};
	struct plan p;
	uint32_t g, ng;

	(void)state;
	create_sets();
	plan_init(&p);
	add6(&p.add, "2001:db8::", "2001:db8::ff");
	assert_int_equal(nftset_getgen(ns, &g), AS_OK);
	assert_int_equal(nftset_commit(ns, &t, &p, g, &ng), AS_ESOFTWARE);
	assert_string_equal(read_text(NULL), "");
	plan_free(&p);
}

/* Without CAP_NET_ADMIN every request fails with AS_EPERM. */
static void
test_no_capability(void **state)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	struct nftset *ns2;
	uint32_t g;
	pid_t pid;
	int st;

	(void)state;
	if ((pid = fork()) == 0) {
		if (syscall(SYS_capget, &h, d) == -1)
			_exit(2);
		d[CAP_NET_ADMIN / 32].effective &=
		    ~(1U << (CAP_NET_ADMIN % 32));
		if (syscall(SYS_capset, &h, d) == -1)
			_exit(2);
		if (nftset_open(&ns2) != AS_OK)
			_exit(3);
		st = nftset_getgen(ns2, &g);
		nftset_close(ns2);
		_exit(st == AS_EPERM ? 0 : 1);
	}
	assert_int_not_equal(pid, -1);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_missing_table, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_missing_set, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_create, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_only_missing_set,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_key_type, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_not_interval, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_map_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_family_mismatch, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_ip_family_v4_only, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_first_commit, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_update, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_delete_is_atomic,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_overlap_names_element,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_genid_moved, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_comments, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_read_nft_filled, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_large_commit, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_empty_plan, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_disabled_family_in_plan,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_capability, setup,
		    teardown),
	};
	int ret;

	if (geteuid() != 0) {
		printf("test_nftset: skipped: needs root for a private "
		    "network namespace\n");
		return 0;
	}
	if (unshare(CLONE_NEWNET) == -1) {
		printf("test_nftset: skipped: unshare(CLONE_NEWNET): %s\n",
		    strerror(errno));
		return 0;
	}
	nft_out = xmalloc(NFT_OUT_MAX);
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	free(nft_out);
	return ret;
}
