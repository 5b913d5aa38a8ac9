/*
 * Table and set names that nft(8) can read back from the include file.
 *
 * allowsync writes the names unquoted into DIR/allowsync.nft ("add element
 * inet filter NAME { ... }"), which /etc/nftables.conf includes.  A name
 * nft cannot read there fails the include, and with it the whole ruleset
 * load.  No I/O.
 */
#include <stdlib.h>
#include <string.h>

#include "allowsync.h"

/*
 * Every word that nft's scanner turns into a keyword token, in any of its
 * start conditions: the quoted patterns of src/scanner.l in nftables
 * 1.0.6 (tag v1.0.6, commit a01fe3e48835981b9cfb739edda16b0ec0f4f34d),
 * the version Debian 12 ships; 342 words.  Only the words are taken.
 *
 * nft 1.0.6 refuses a keyword as a table or set name in the include file
 * ("unexpected counter, expecting string"), quoted or not.  Some keywords
 * happen to be accepted in that position; all are refused, so that no
 * release's grammar needs to be known.  Sorted in strcmp(3) order for
 * bsearch(3).
 */
static const char *const nft_keywords[] = {
	"8021ad", "8021q", "a-rwnd", "abort", "accept", "ackseq", "add", "addr",
	"ah", "all", "and", "arp", "asconf", "asconf-ack", "auto-merge",
	"avgpkt", "bridge", "burst", "bypass", "bytes", "cfi", "cgroup",
	"cgroupv2", "chain", "chains", "checksum", "chunk", "classid", "code",
	"comment", "comp", "constant", "continue", "cookie-ack", "cookie-echo",
	"count", "counter", "counters", "cpi", "cpu", "create", "csumcov", "ct",
	"cum-tsn-ack", "cwr", "daddr", "data", "day", "dccp", "define", "dei",
	"delete", "describe", "device", "devices", "direction", "dnat", "doff",
	"dport", "drop", "dscp", "dst", "dup", "dynamic", "echo", "ecn", "ecne",
	"element", "elements", "eol", "eq", "error", "esp", "ether", "event",
	"exists", "expectation", "expiration", "expires", "export", "exthdr",
	"fanout", "fastopen", "fib", "flags", "flow", "flowlabel", "flowtable",
	"flowtables", "flush", "forward-tsn", "frag", "frag-off",
	"fully-random", "fwd", "gateway", "gc-interval", "ge", "get", "goto",
	"group", "gt", "handle", "hbh", "hdrlength", "heartbeat",
	"heartbeat-ack", "helper", "helpers", "hlen", "hook", "hooks",
	"hoplimit", "hour", "htype", "ibriport", "ibrname", "icmp", "icmpv6",
	"icmpx", "id", "igmp", "iif", "iifgroup", "iifname", "iiftype",
	"import", "in", "inc", "include", "index", "inet", "init", "init-ack",
	"init-tag", "initial-tsn", "insert", "interval", "ip", "ip6", "ipsec",
	"jhash", "json", "jump", "l3proto", "label", "last-entry", "le", "left",
	"length", "level", "limit", "limits", "list", "ll", "log", "lowest-tsn",
	"lshift", "lsrr", "lt", "map", "maps", "mark", "masquerade",
	"max-delay", "maxseg", "md5sig", "memory", "meta", "meter", "meters",
	"mh", "minute", "missing", "mod", "monitor", "more-fragments", "mptcp",
	"mrt", "mss", "mtu", "name", "ne", "netdev", "new-cum-tsn", "nexthdr",
	"nexthop", "nftrace", "nh", "noop", "nop", "not", "notrack", "num",
	"num-dup-tsns", "num-gap-ack-blocks", "num-inbound-streams",
	"num-outbound-streams", "numgen", "obriport", "obrname", "offload",
	"offset", "oif", "oifgroup", "oifname", "oiftype", "operation",
	"option", "options", "or", "original", "osf", "out", "over", "packets",
	"param-problem", "pcp", "performance", "persistent", "pkttype", "plen",
	"policy", "port", "position", "ppid", "prefix", "priority", "proto-dst",
	"proto-src", "protocol", "ptr", "ptype", "queue", "queue-threshold",
	"quota", "quotas", "ra", "random", "rate", "redefine", "redirect",
	"reject", "rename", "replace", "reply", "reqid", "reserved",
	"reserved2", "reset", "return", "right", "rr", "rshift", "rt", "rt0",
	"rt2", "rtclassid", "rule", "rules", "ruleset", "sack", "sack-perm",
	"sack-permitted", "sack0", "sack1", "sack2", "sack3", "saddr", "sctp",
	"secmark", "secmarks", "second", "seed", "seg-left", "seqno",
	"sequence", "set", "sets", "shutdown", "shutdown-ack",
	"shutdown-complete", "sid", "size", "skgid", "skuid", "snaplen", "snat",
	"socket", "spi", "spnum", "sport", "srh", "ssn", "ssrr", "state",
	"status", "stream", "subtype", "symhash", "synproxy", "synproxys",
	"table", "tables", "tag", "tcp", "th", "time", "timeout", "timestamp",
	"to", "tproxy", "trace", "transparent", "tsecr", "tsn", "tsval", "ttl",
	"type", "typeof", "udp", "udplite", "undefine", "until", "update",
	"urgptr", "used", "value", "version", "vlan", "vm", "vmap", "vtag",
	"week", "wildcard", "window", "with", "wscale", "xml", "xor", "xt",
	"zone",
};

/* True for an ASCII letter, whatever the locale. */
static bool
ascii_letter(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* bsearch(3) comparison of a name with an entry of nft_keywords. */
static int
nft_keyword_cmp(const void *key, const void *elem)
{
	return strcmp(key, *(const char *const *)elem);
}

/*
 * See allowsync.h.  Allowed are letters, digits, '_' and '.', starting
 * with a letter, and no keyword: nft(8)'s identifiers without '/' and '-'.
 * That is narrower than nft 1.0.6 needs there, on purpose: one short rule
 * that every release reads back.
 */
const char *
nft_name_check(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0)
		return "is empty";
	if (n > MAX_NFT_NAME)
		return "is longer than 255 bytes, the kernel's limit";
	if (!ascii_letter(s[0]))
		return "does not start with a letter";
	for (i = 1; i < n; i++)
		if (!ascii_letter(s[i]) && !(s[i] >= '0' && s[i] <= '9') &&
		    s[i] != '_' && s[i] != '.')
			return "holds a character other than a letter, digit, "
			    "'_' or '.'";
	if (bsearch(s, nft_keywords, sizeof(nft_keywords) /
	    sizeof(nft_keywords[0]), sizeof(nft_keywords[0]),
	    nft_keyword_cmp) != NULL)
		return "is an nft keyword: nft could not read it back from "
		    "the include file";
	return NULL;
}
