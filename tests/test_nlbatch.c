/*
 * Unit tests for nlbatch.c and nftelem.c without a kernel: the bytes of a
 * batch against a golden copy written out field by field, the split of a
 * long element list under the 16-bit nest limit, and the handling of
 * recorded kernel replies (an ACK, an extended ACK pointing at the Nth
 * element, ERESTART, EPERM, a full set, a short read).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include <cmocka.h>
#include <libmnl/libmnl.h>

#include "kernel.h"

#define SEQ0	100

static const struct nft_target tgt = {
	.family = "inet",
	.table = "t",
	.set4 = "s4",
	.set6 = "s6"
};

/* A byte string being written out field by field, host order or not. */
struct bytes {
	uint8_t	b[512];
	size_t	n;
};

static void
put(struct bytes *w, const void *p, size_t n)
{
	assert_true(w->n + n <= sizeof(w->b));
	memcpy(w->b + w->n, p, n);
	w->n += n;
}

static void
put16(struct bytes *w, uint16_t v)
{
	put(w, &v, 2);
}

static void
put32(struct bytes *w, uint32_t v)
{
	put(w, &v, 4);
}

/* nlmsghdr and nfgenmsg. */
static void
put_hdr(struct bytes *w, uint32_t len, uint16_t type, uint16_t flags,
    uint32_t seq, uint8_t family, uint16_t res_id)
{
	put32(w, len);
	put16(w, type);
	put16(w, flags);
	put32(w, seq);
	put32(w, 0);			/* portid: the kernel fills it in */
	put(w, &family, 1);
	put(w, "\0", 1);		/* NFNETLINK_V0 */
	put16(w, htons(res_id));
}

/* An attribute header; the payload follows, padded by the caller. */
static void
put_attr(struct bytes *w, uint16_t len, uint16_t type)
{
	put16(w, len);
	put16(w, type);
}

/* One element: a nest with the key (4 bytes) and, for an end, its flag. */
static void
put_elem4(struct bytes *w, uint32_t key_be, bool end)
{
	put_attr(w, end ? 24 : 16, NLA_F_NESTED | NFTA_LIST_ELEM);
	put_attr(w, 12, NLA_F_NESTED | NFTA_SET_ELEM_KEY);
	put_attr(w, 8, NFTA_DATA_VALUE);
	put32(w, key_be);
	if (end) {
		put_attr(w, 8, NFTA_SET_ELEM_FLAGS);
		put32(w, htonl(NFT_SET_ELEM_INTERVAL_END));
	}
}

/* A rangelist with one IPv4 range. */
static void
one_range(struct rangelist *rl, uint32_t first, uint32_t last)
{
	struct range4 r = { first, last };

	rangelist_init(rl);
	rangelist_add4(rl, &r);
}

/*
 * BEGIN with a generation, one NEWSETELEM with 1.2.3.0/24 (a start at
 * 1.2.3.0, an end at 1.2.4.0) and 10.0.0.1, and END: every byte as the
 * kernel must see it.
 */
static void
test_golden_batch(void **state)
{
	struct nlbatch *nb = nlbatch_new(SEQ0);
	struct rangelist rl;
	struct range4 r2 = { 0x0a000001, 0x0a000001 };
	struct bytes w = { .n = 0 };
	const void *got;
	size_t len;

	(void)state;
	one_range(&rl, 0x01020300, 0x010203ff);
	rangelist_add4(&rl, &r2);
	nlbatch_begin(nb, NFNL_SUBSYS_NFTABLES, 7);
	nftelem_put_ranges(nb, &tgt, 4, &rl, false);
	nlbatch_end(nb, NFNL_SUBSYS_NFTABLES);

	/* BATCH_BEGIN, res_id NFNL_SUBSYS_NFTABLES, NFNL_BATCH_GENID 7. */
	put_hdr(&w, 28, NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST | NLM_F_ACK,
	    SEQ0, AF_UNSPEC, NFNL_SUBSYS_NFTABLES);
	put_attr(&w, 8, NFNL_BATCH_GENID);
	put32(&w, htonl(7));
	/* NEWSETELEM inet: table "t", set "s4", three elements. */
	put_hdr(&w, 20 + 8 + 8 + 4 + 16 + 24 + 16 + 24,
	    NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWSETELEM,
	    NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE, SEQ0 + 1, NFPROTO_INET,
	    0);
	put_attr(&w, 6, NFTA_SET_ELEM_LIST_TABLE);
	put(&w, "t\0\0\0", 4);
	put_attr(&w, 7, NFTA_SET_ELEM_LIST_SET);
	put(&w, "s4\0\0", 4);
	put_attr(&w, 4 + 16 + 24 + 16 + 24,
	    NLA_F_NESTED | NFTA_SET_ELEM_LIST_ELEMENTS);
	put_elem4(&w, htonl(0x01020300), false);
	put_elem4(&w, htonl(0x01020400), true);
	put_elem4(&w, htonl(0x0a000001), false);
	put_elem4(&w, htonl(0x0a000002), true);
	/* BATCH_END. */
	put_hdr(&w, 20, NFNL_MSG_BATCH_END, NLM_F_REQUEST | NLM_F_ACK,
	    SEQ0 + 2, AF_UNSPEC, NFNL_SUBSYS_NFTABLES);

	got = nlbatch_data(nb, &len);
	assert_int_equal(len, w.n);
	assert_memory_equal(got, w.b, w.n);
	rangelist_free(&rl);
	nlbatch_free(nb);
}

/* The top address has no end element, and a delete carries no CREATE. */
static void
test_golden_delete_to_top(void **state)
{
	struct nlbatch *nb = nlbatch_new(SEQ0);
	struct rangelist rl;
	struct bytes w = { .n = 0 };
	const void *got;
	size_t len;

	(void)state;
	one_range(&rl, 0xfffffff0, 0xffffffff);
	nlbatch_begin(nb, NFNL_SUBSYS_NFTABLES, 0);
	nftelem_put_ranges(nb, &tgt, 4, &rl, true);

	put_hdr(&w, 20, NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST | NLM_F_ACK,
	    SEQ0, AF_UNSPEC, NFNL_SUBSYS_NFTABLES);
	put_hdr(&w, 20 + 8 + 8 + 4 + 16,
	    NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_DELSETELEM,
	    NLM_F_REQUEST | NLM_F_ACK, SEQ0 + 1, NFPROTO_INET, 0);
	put_attr(&w, 6, NFTA_SET_ELEM_LIST_TABLE);
	put(&w, "t\0\0\0", 4);
	put_attr(&w, 7, NFTA_SET_ELEM_LIST_SET);
	put(&w, "s4\0\0", 4);
	put_attr(&w, 4 + 16, NLA_F_NESTED | NFTA_SET_ELEM_LIST_ELEMENTS);
	put_elem4(&w, htonl(0xfffffff0), false);

	got = nlbatch_data(nb, &len);
	assert_int_equal(len, w.n);
	assert_memory_equal(got, w.b, w.n);
	rangelist_free(&rl);
	nlbatch_free(nb);
}

/*
 * 20000 ranges do not fit one message: they are split over several, each
 * list nest under the 16-bit limit, every start with its end, none lost.
 */
static void
test_list_split(void **state)
{
	struct nlbatch *nb = nlbatch_new(SEQ0);
	const struct nlmsghdr *nlh;
	const struct nlattr *a, *el;
	struct rangelist rl;
	struct range4 r;
	const void *buf;
	size_t len, i, msgs = 0, elems = 0, in_msg;
	int left;

	(void)state;
	rangelist_init(&rl);
	for (i = 0; i < 20000; i++) {
		r.first = r.last = 0x0b000000 + 2 * (uint32_t)i;
		rangelist_add4(&rl, &r);
	}
	nlbatch_begin(nb, NFNL_SUBSYS_NFTABLES, 0);
	nftelem_put_ranges(nb, &tgt, 4, &rl, false);
	nlbatch_end(nb, NFNL_SUBSYS_NFTABLES);
	buf = nlbatch_data(nb, &len);
	left = (int)len;
	for (nlh = buf; mnl_nlmsg_ok(nlh, left);
	    nlh = mnl_nlmsg_next(nlh, &left)) {
		if (nlh->nlmsg_type !=
		    (NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWSETELEM))
			continue;
		msgs++;
		in_msg = 0;
		mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
			if (mnl_attr_get_type(a) !=
			    NFTA_SET_ELEM_LIST_ELEMENTS)
				continue;
			assert_true(a->nla_len <= NLB_NEST_MAX);
			mnl_attr_for_each_nested(el, a)
				in_msg++;
		}
		assert_int_equal(in_msg % 2, 0);
		elems += in_msg;
	}
	assert_int_equal(left, 0);
	assert_true(msgs > 1);
	assert_int_equal(elems, 40000);
	rangelist_free(&rl);
	nlbatch_free(nb);
}

/* What the explain callback saw. */
struct seen {
	int		 calls;
	int		 err;
	int		 kind;
	char		 ext[ESCAPE_BUF];
	char		 what[RANGE_STRLEN];
};

/* nlb_explain that records the error; ENFILE is a full set. */
static enum as_status
explain(const struct nlb_error *e, void *ctx)
{
	struct seen *s = ctx;

	s->calls++;
	s->err = e->err;
	s->kind = e->tag->kind;
	snprintf(s->ext, sizeof(s->ext), "%s", e->ext_msg ? e->ext_msg : "");
	if (!e->has_offs ||
	    nftelem_describe(e->msg, e->tag->af, e->offs, s->what) == -1)
		snprintf(s->what, sizeof(s->what), "-");
	if (e->err == EPERM)
		return AS_EPERM;
	return e->err == ENFILE ? AS_EUNAVAIL : AS_EKERNEL;
}

/*
 * A reply to message seq of the batch: NLMSG_ERROR with error err, capped,
 * with the kernel's message and an offset when they are given.
 */
static size_t
reply(uint8_t *buf, uint32_t seq, int err, const char *msg,
    int64_t offs)
{
	struct nlmsghdr *nlh;
	struct nlmsgerr *e;

	memset(buf, 0, 256);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = NLMSG_ERROR;
	nlh->nlmsg_flags = NLM_F_CAPPED;
	nlh->nlmsg_seq = seq;
	e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));
	e->error = -err;
	e->msg.nlmsg_len = 64;		/* capped: only the header is echoed */
	e->msg.nlmsg_seq = seq;
	if (msg != NULL || offs >= 0)
		nlh->nlmsg_flags |= NLM_F_ACK_TLVS;
	if (msg != NULL)
		mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, msg);
	if (offs >= 0)
		mnl_attr_put_u32(nlh, NLMSGERR_ATTR_OFFS, (uint32_t)offs);
	return nlh->nlmsg_len;
}

/* A batch of BEGIN, the elements of three ranges, END. */
static struct nlbatch *
three_ranges(void)
{
	struct nlbatch *nb = nlbatch_new(SEQ0);
	struct rangelist rl;
	struct range4 r;

	one_range(&rl, 0x01020300, 0x010203ff);
	r.first = r.last = 0x0a000001;
	rangelist_add4(&rl, &r);
	r.first = 0x0a000100;
	r.last = 0x0a0001ff;
	rangelist_add4(&rl, &r);
	nlbatch_begin(nb, NFNL_SUBSYS_NFTABLES, 42);
	nftelem_put_ranges(nb, &tgt, 4, &rl, false);
	nlbatch_end(nb, NFNL_SUBSYS_NFTABLES);
	rangelist_free(&rl);
	return nb;
}

/* Every message ACKed, END too: committed and confirmed. */
static void
test_reply_acks(void **state)
{
	struct nlbatch *nb = three_ranges();
	struct nlb_result r = { .got = true };
	struct seen s = { 0 };
	uint8_t buf[3 * 256];
	size_t n = 0;

	(void)state;
	n += reply(buf + n, SEQ0, 0, NULL, -1);
	n += reply(buf + n, SEQ0 + 1, 0, NULL, -1);
	n += reply(buf + n, SEQ0 + 2, 0, NULL, -1);
	nlbatch_replies(nb, buf, n, &r, explain, &s);
	assert_int_equal(r.replies, 3);
	assert_true(r.end_acked);
	assert_int_equal(s.calls, 0);
	assert_int_equal(nlbatch_result(nb, &r, "inet t"), AS_OK);
	/* A reply to a sequence number not ours is not counted. */
	n = reply(buf, SEQ0 + 7, 0, NULL, -1);
	nlbatch_replies(nb, buf, n, &r, explain, &s);
	assert_int_equal(r.replies, 3);
	nlbatch_free(nb);
}

/*
 * An extended ACK whose offset points into the third element (the start
 * of 10.0.0.1) names that range; the kernel's message is kept, escaped.
 */
static void
test_reply_ext_ack_element(void **state)
{
	struct nlbatch *nb = three_ranges();
	struct nlb_result r = { .got = true };
	struct seen s = { 0 };
	uint8_t buf[256];
	size_t n, off3 = 16 + 4 + 8 + 8 + 4 + 16 + 24 + 4;

	(void)state;
	n = reply(buf, SEQ0 + 1, EEXIST, "Element \x1b[31mexists", off3);
	nlbatch_replies(nb, buf, n, &r, explain, &s);
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.err, EEXIST);
	assert_int_equal(s.kind, NFT_KIND_NEWELEM);
	assert_string_equal(s.what, "10.0.0.1");
	assert_string_equal(s.ext, "Element \\x1b[31mexists");
	assert_int_equal(nlbatch_result(nb, &r, "inet t"), AS_EKERNEL);
	/* Pointing at the end element of 1.2.3.0/24 names the range too. */
	memset(&r, 0, sizeof(r));
	r.got = true;
	n = reply(buf, SEQ0 + 1, EEXIST, NULL, 16 + 4 + 8 + 8 + 4 + 16 + 8);
	nlbatch_replies(nb, buf, n, &r, explain, &s);
	assert_string_equal(s.what, "1.2.3.0/24");
	/* An offset outside every element names none. */
	n = reply(buf, SEQ0 + 1, EINVAL, NULL, 2);
	nlbatch_replies(nb, buf, n, &r, explain, &s);
	assert_string_equal(s.what, "-");
	nlbatch_free(nb);
}

/* ERESTART on BEGIN: the generation moved, re-read and retry. */
static void
test_reply_restart(void **state)
{
	struct nlbatch *nb = three_ranges();
	struct nlb_result r = { .got = true };
	struct seen s = { 0 };
	uint8_t buf[256];
	size_t n;

	(void)state;
	n = reply(buf, SEQ0, ERESTART, NULL, -1);
	nlbatch_replies(nb, buf, n, &r, explain, &s);
	assert_true(r.restart);
	assert_int_equal(s.calls, 0);
	assert_int_equal(nlbatch_result(nb, &r, "inet t"), AS_ETEMPFAIL);
	/* ERESTART on another message is an ordinary error. */
	memset(&r, 0, sizeof(r));
	r.got = true;
	n = reply(buf, SEQ0 + 1, ERESTART, NULL, -1);
	nlbatch_replies(nb, buf, n, &r, explain, &s);
	assert_false(r.restart);
	assert_int_equal(nlbatch_result(nb, &r, "inet t"), AS_EKERNEL);
	nlbatch_free(nb);
}

/* EPERM and a full set are classified by the explainer. */
static void
test_reply_classified(void **state)
{
	struct nlbatch *nb = three_ranges();
	struct nlb_result r = { .got = true };
	struct seen s = { 0 };
	uint8_t buf[256];
	size_t n;

	(void)state;
	n = reply(buf, SEQ0 + 1, ENFILE, NULL, -1);
	nlbatch_replies(nb, buf, n, &r, explain, &s);
	assert_int_equal(nlbatch_result(nb, &r, "inet t"), AS_EUNAVAIL);
	n = reply(buf, SEQ0 + 1, EPERM, NULL, -1);
	nlbatch_replies(nb, buf, n, &r, explain, &s);
	assert_int_equal(nlbatch_result(nb, &r, "inet t"), AS_EPERM);
	nlbatch_free(nb);
}

/*
 * A datagram cut short inside a reply: what is whole is counted, the rest
 * is not read past its end, and too few replies is a failure.  No reply
 * at all is one too.
 */
static void
test_reply_short_read(void **state)
{
	struct nlbatch *nb = three_ranges();
	struct nlb_result r = { .got = true };
	struct seen s = { 0 };
	uint8_t buf[3 * 256];
	size_t n = 0, whole;

	(void)state;
	n += reply(buf + n, SEQ0, 0, NULL, -1);
	whole = n;
	n += reply(buf + n, SEQ0 + 1, EEXIST, "x", 40);
	nlbatch_replies(nb, buf, whole + 10, &r, explain, &s);
	assert_int_equal(r.replies, 1);
	assert_int_equal(s.calls, 0);
	/* Linux before 6.10 ACKs neither BEGIN nor END: 1 of 3 is fine. */
	assert_int_equal(nlbatch_result(nb, &r, "inet t"), AS_OK);
	memset(&r, 0, sizeof(r));
	assert_int_equal(nlbatch_result(nb, &r, "inet t"), AS_EKERNEL);
	r.got = true;
	r.lost = true;
	assert_int_equal(nlbatch_result(nb, &r, "inet t"), AS_EKERNEL);
	nlbatch_free(nb);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_batch),
		cmocka_unit_test(test_golden_delete_to_top),
		cmocka_unit_test(test_list_split),
		cmocka_unit_test(test_reply_acks),
		cmocka_unit_test(test_reply_ext_ack_element),
		cmocka_unit_test(test_reply_restart),
		cmocka_unit_test(test_reply_classified),
		cmocka_unit_test(test_reply_short_read),
	};

	log_init(LOG_LVL_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
