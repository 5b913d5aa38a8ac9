/*
 * Fetch one document over HTTPS (or from a local file:// path) with
 * libcurl.  TLS verification is always on, redirects may only lead to
 * https://, and the size cap is enforced on the bytes actually delivered
 * after decompression, never on what the server announces.
 */
#include <ctype.h>
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>

#include "allowsync.h"

#define MAX_HEADER_VALUE	256	/* longest ETag/Last-Modified kept */
#define FIRST_BODY_ALLOC	16384	/* first body buffer, bytes */
/*
 * A transfer slower than LOW_SPEED_LIMIT bytes/s for LOW_SPEED_TIME
 * seconds (or the whole timeout, if shorter) is abandoned: a server that
 * trickles the body must not hold a run hostage.
 */
#define LOW_SPEED_LIMIT		16
#define LOW_SPEED_TIME		10

/* State of one transfer attempt, shared with the libcurl callbacks. */
struct fetch_ctx {
	CURL		*h;
	char		*buf;		/* body, NUL-terminated */
	size_t		 len;
	size_t		 cap;
	size_t		 max;		/* opts->max_bytes */
	int		 too_large;	/* body went past max */
	int		 discarded;	/* error response body dropped */
	int		 conditional;	/* validators were sent */
	char		 etag[MAX_HEADER_VALUE + 1];
	char		 last_modified[MAX_HEADER_VALUE + 1];
};

/* Outcome of one attempt. */
enum fetch_outcome {
	FETCH_DONE,
	FETCH_RETRY,	/* transient: worth another attempt */
	FETCH_FAIL,	/* permanent for this run */
};

static char	fetch_error[512];

/* Record the reason for the last failure (one line, already escaped). */
static void __attribute__((format(printf, 1, 2)))
fetch_set_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(fetch_error, sizeof(fetch_error), fmt, ap);
	va_end(ap);
}

/*
 * libssh2's flag for "leave the crypto library alone" (libssh2.h), spelled
 * out so that building needs no libssh2 header.
 */
#define LIBSSH2_INIT_NO_CRYPTO	0x0001

/*
 * Initialise libcurl; failure shows up later as failed fetches.
 *
 * curl_global_init() initialises every backend libcurl was built with.
 * Debian's builds link libssh2, whose own initialisation loads all of
 * OpenSSL's ciphers, digests and engines, and reads openssl.cnf to do so:
 * about 1.4 MiB of memory and code in a process that can never speak SSH
 * (only https and file are allowed, on redirects too).  libssh2_init()
 * counts its callers and sets up crypto only for the first, so one call
 * with LIBSSH2_INIT_NO_CRYPTO ahead of libcurl's keeps OpenSSL out.  The
 * symbol is looked up, not linked: a libcurl without libssh2 simply has
 * none, and nothing changes.
 */
void
fetch_global_init(void)
{
	int (*ssh2_init)(int);

	*(void **)&ssh2_init = dlsym(RTLD_DEFAULT, "libssh2_init");
	if (ssh2_init != NULL)
		(void)ssh2_init(LIBSSH2_INIT_NO_CRYPTO);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		log_err("cannot initialise libcurl");
}

/* Release libcurl's global state. */
void
fetch_global_cleanup(void)
{
	curl_global_cleanup();
}

/*
 * Returns the reason the last fetch_document() call failed, or "" after a
 * success.  The text is already escaped; the buffer is static.
 */
const char *
fetch_last_error(void)
{
	return fetch_error;
}

/*
 * True when the authority of url (between "scheme://" and the first '/',
 * '?' or '#') holds an '@', whatever the scheme and whatever else is
 * wrong with the URL.  Checked on the raw text first, so that a
 * well-formed URL with credentials gets the reason that says so.  A
 * malformed one ("https:/user:pw@host") gets another reason; the caller
 * must not log a refused URL that holds an '@' (config_url_error()).
 */
static int
fetch_url_has_userinfo(const char *url)
{
	const char *p = url;

	if (!isalpha((unsigned char)*p))
		return 0;
	while (isalnum((unsigned char)*p) || *p == '+' || *p == '-' ||
	    *p == '.')
		p++;
	if (strncmp(p, "://", 3) != 0)
		return 0;
	p += 3;
	return p[strcspn(p, "/?#@")] == '@';
}

/*
 * Returns NULL when url is https:// with a host and no userinfo, or
 * file:/// with an absolute path, else a static reason.  The scheme is
 * matched without regard to case; any byte outside printable ASCII is
 * refused.  Userinfo is refused because libcurl would send it as Basic
 * auth and the URL is written to logs, metrics, reports and state files;
 * the lists are public and need no credentials.
 */
const char *
fetch_url_check(const char *url)
{
	CURLU *u;
	char *host = NULL, *user = NULL, *pass = NULL;
	const char *why = NULL;
	size_t i, len;

	len = strlen(url);
	if (len == 0)
		return "empty URL";
	if (fetch_url_has_userinfo(url))
		return URL_CREDENTIALS;
	if (len > MAX_URL_LEN)
		return "URL too long";
	for (i = 0; i < len; i++)
		if ((unsigned char)url[i] <= ' ' ||
		    (unsigned char)url[i] >= 0x7f)
			return "URL contains whitespace, control or "
			    "non-ASCII characters";
	if (strncasecmp(url, "http://", 7) == 0)
		return "plain http is not allowed: use https:// "
		    "(TLS is mandatory)";
	if (strncasecmp(url, "file://", 7) == 0)
		return url[7] == '/' ? NULL :
		    "file URLs must be file:///absolute/path";
	if (strncasecmp(url, "https://", 8) != 0)
		return "unsupported scheme (only https:// and file:// are "
		    "allowed)";
	if (url[8] == '/')
		return "URL has no host";

	if ((u = curl_url()) == NULL)
		return "cannot parse URL";
	/* Whatever libcurl itself would take for userinfo, too. */
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
		why = "malformed URL";
	else if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PASSWORD, &pass, 0) == CURLUE_OK)
		why = URL_CREDENTIALS;
	else if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    host[0] == '\0')
		why = "URL has no host";
	curl_free(user);
	curl_free(pass);
	curl_free(host);
	curl_url_cleanup(u);
	return why;
}

/* curl_slist_append that never returns NULL. */
static struct curl_slist *
fetch_slist_append(struct curl_slist *l, const char *s)
{
	struct curl_slist *n;

	if ((n = curl_slist_append(l, s)) == NULL) {
		log_err("out of memory");
		abort();
	}
	return n;
}

/*
 * libcurl write callback: append to the body.  Returns n, or 0 to abort
 * when the body would pass max (too_large is set) or the response is not
 * a success, whose body is of no use.
 */
static size_t
fetch_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct fetch_ctx *ctx = arg;
	size_t n = size * nmemb, cap;
	long code = 0;

	curl_easy_getinfo(ctx->h, CURLINFO_RESPONSE_CODE, &code);
	if (code != 0 && code / 100 != 2) {
		ctx->discarded = code != 304;
		return 0;
	}
	if (n > ctx->max - ctx->len) {
		ctx->too_large = 1;
		return 0;
	}
	if (ctx->len + n + 1 > ctx->cap) {
		cap = ctx->cap == 0 ? FIRST_BODY_ALLOC : ctx->cap;
		while (cap < ctx->len + n + 1 && cap <= ctx->max / 2)
			cap *= 2;
		if (cap < ctx->len + n + 1 || cap > ctx->max + 1)
			cap = ctx->max + 1;
		ctx->buf = xreallocarray(ctx->buf, cap, 1);
		ctx->cap = cap;
	}
	memcpy(ctx->buf + ctx->len, data, n);
	ctx->len += n;
	ctx->buf[ctx->len] = '\0';
	return n;
}

/*
 * Keep the value of header name (length nlen, with its colon) from line
 * in dst, trimmed.  A value that is too long or holds a byte outside
 * printable ASCII (0x20-0x7e) is dropped: it will be sent back in
 * conditional requests and printed by --status.  Returns 1 when the line
 * was that header, else 0.
 */
static int
fetch_header_value(const char *line, size_t len, const char *name,
    size_t nlen, char *dst)
{
	size_t i;

	if (len < nlen || strncasecmp(line, name, nlen) != 0)
		return 0;
	line += nlen;
	len -= nlen;
	while (len > 0 && (*line == ' ' || *line == '\t')) {
		line++;
		len--;
	}
	while (len > 0 && isspace((unsigned char)line[len - 1]))
		len--;
	dst[0] = '\0';
	if (len > MAX_HEADER_VALUE)
		return 1;
	for (i = 0; i < len; i++)
		if ((unsigned char)line[i] < 0x20 ||
		    (unsigned char)line[i] > 0x7e)
			return 1;
	memcpy(dst, line, len);
	dst[len] = '\0';
	return 1;
}

/*
 * libcurl header callback: keep ETag and Last-Modified of the last
 * response; a status line starts a new response (redirect, 1xx, proxy).
 * Returns n.
 */
static size_t
fetch_header(char *line, size_t size, size_t nitems, void *arg)
{
	struct fetch_ctx *ctx = arg;
	size_t n = size * nitems;

	if (n >= 5 && strncmp(line, "HTTP/", 5) == 0) {
		ctx->etag[0] = '\0';
		ctx->last_modified[0] = '\0';
	} else if (!fetch_header_value(line, n, "etag:", 5, ctx->etag))
		fetch_header_value(line, n, "last-modified:", 14,
		    ctx->last_modified);
	return n;
}

/*
 * Set every option of the transfer on h.  Returns 0, or -1 when libcurl
 * refused one (for instance a protocol restriction it does not know).
 */
static int
fetch_setopt(CURL *h, const struct fetch_opts *opts, struct fetch_ctx *ctx,
    char *errbuf)
{
	long timeout, conn_timeout;

	timeout = opts->timeout > 0 && opts->timeout <= MAX_TIMEOUT ?
	    opts->timeout : DEFAULT_TIMEOUT;
	conn_timeout = opts->connect_timeout > 0 &&
	    opts->connect_timeout <= timeout ?
	    opts->connect_timeout : timeout;

	if (curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https,file") ||
	    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "https") ||
	    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L) ||
	    curl_easy_setopt(h, CURLOPT_MAXREDIRS, (long)MAX_REDIRS) ||
	    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L) ||
	    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L) ||
	    curl_easy_setopt(h, CURLOPT_SSLVERSION,
	    (long)CURL_SSLVERSION_TLSv1_2) ||
	    curl_easy_setopt(h, CURLOPT_TIMEOUT, timeout) ||
	    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, conn_timeout) ||
	    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT,
	    (long)LOW_SPEED_LIMIT) ||
	    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME,
	    timeout < LOW_SPEED_TIME ? timeout : (long)LOW_SPEED_TIME) ||
	    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "") ||
	    curl_easy_setopt(h, CURLOPT_USERAGENT,
	    "allowsync/" ALLOWSYNC_VERSION) ||
	    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) ||
	    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf) ||
	    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, fetch_write) ||
	    curl_easy_setopt(h, CURLOPT_WRITEDATA, ctx) ||
	    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, fetch_header) ||
	    curl_easy_setopt(h, CURLOPT_HEADERDATA, ctx))
		return -1;
	if (opts->max_bytes > 0 && curl_easy_setopt(h,
	    CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)opts->max_bytes))
		return -1;
	/* A configured CA file is the only trust anchor, not an extra one. */
	if (opts->ca_file != NULL &&
	    (curl_easy_setopt(h, CURLOPT_CAINFO, opts->ca_file) ||
	    curl_easy_setopt(h, CURLOPT_CAPATH, NULL)))
		return -1;
	return 0;
}

/*
 * The status bits of gnutls_certificate_status_t (gnutls/gnutls.h, a
 * stable ABI), spelled out so this file needs no GnuTLS header: the
 * library is libcurl's business, not ours.
 */
static const struct {
	unsigned long	 bit;
	const char	*why;
} gnutls_reasons[] = {
	{ 1UL << 6, "certificate issuer is not trusted (unknown CA, or a "
	    "self-signed certificate)" },
	{ 1UL << 10, "certificate has expired" },
	{ 1UL << 9, "certificate is not yet valid" },
	{ 1UL << 5, "certificate has been revoked" },
	{ 1UL << 7, "certificate issuer is not a CA" },
	{ 1UL << 11, "certificate signature does not verify" },
	{ 1UL << 8, "certificate uses an insecure algorithm" },
	{ 1UL << 16, "certificate chain breaks its issuer's constraints" },
	{ 1UL << 18, "certificate is not meant for TLS servers" },
	{ 1UL << 14, "certificate names another host" },
	{ 1UL << 21, "certificate has an unknown critical extension" },
};

/* See allowsync.h. */
const char *
fetch_gnutls_reason(unsigned long status, char *buf, size_t len)
{
	size_t i, n = 0;
	int w;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	for (i = 0; i < sizeof(gnutls_reasons) / sizeof(gnutls_reasons[0]);
	    i++) {
		if ((status & gnutls_reasons[i].bit) == 0 || n >= len)
			continue;
		w = snprintf(buf + n, len - n, "%s%s", n > 0 ? "; " : "",
		    gnutls_reasons[i].why);
		if (w > 0)
			n += (size_t)w;
	}
	if (n == 0)
		snprintf(buf, len, "certificate rejected (GnuTLS status "
		    "0x%lx)", status);
	return buf;
}

/*
 * libcurl's GnuTLS backend says only "server certificate verification
 * failed. CAfile: ..." and leaves the reason in CURLINFO_SSL_VERIFYRESULT
 * as GnuTLS status bits; the OpenSSL backend already names the reason in
 * its error text.  Returns a reason to log instead of libcurl's, or NULL
 * to keep libcurl's.
 */
static const char *
fetch_verify_reason(CURL *h, char *buf, size_t len)
{
	const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
	long status = 0;

	if (v == NULL || v->ssl_version == NULL ||
	    strncmp(v->ssl_version, "GnuTLS", 6) != 0 ||
	    curl_easy_getinfo(h, CURLINFO_SSL_VERIFYRESULT, &status) !=
	    CURLE_OK || status <= 0)
		return NULL;
	snprintf(buf, len, "server certificate verification failed: ");
	fetch_gnutls_reason((unsigned long)status, buf + strlen(buf),
	    len - strlen(buf));
	return buf;
}

/* True for libcurl errors that another attempt may not meet. */
static int
fetch_transient(CURLcode rc)
{
	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
		return 1;
	default:
		return 0;
	}
}

/*
 * Run one attempt.  Returns the outcome and, on failure, leaves the
 * reason in fetch_error and the server's Retry-After (seconds, or -1 when
 * there was none) in *retry_after.  The body stays in ctx.
 */
static enum fetch_outcome
fetch_attempt(struct fetch_ctx *ctx, char *errbuf, long *retry_after)
{
	char esc[ESCAPE_BUF], why[256];
	const char *s;
	curl_off_t ra = -1;
	CURLcode rc;
	long code = 0;

	ctx->len = 0;
	ctx->too_large = ctx->discarded = 0;
	ctx->etag[0] = ctx->last_modified[0] = '\0';
	errbuf[0] = '\0';
	*retry_after = -1;

	rc = curl_easy_perform(ctx->h);
	curl_easy_getinfo(ctx->h, CURLINFO_RESPONSE_CODE, &code);

	if (rc == CURLE_OK && code == 304 && ctx->conditional)
		return FETCH_DONE;
	if (rc == CURLE_TOO_MANY_REDIRECTS) {
		fetch_set_error("too many redirects (more than %d)",
		    MAX_REDIRS);
		return FETCH_FAIL;
	}
	if (rc == CURLE_UNSUPPORTED_PROTOCOL && code / 100 == 3 &&
	    curl_easy_getinfo(ctx->h, CURLINFO_EFFECTIVE_URL, &s) ==
	    CURLE_OK && s != NULL) {
		fetch_set_error("redirect to %s refused: not https "
		    "(unsupported protocol)",
		    log_escape(s, strlen(s), esc, sizeof(esc)));
		return FETCH_FAIL;
	}
	/*
	 * A 3xx that is not the final response means a redirect was
	 * followed and its target failed: that is rc's story, not code's.
	 */
	if (code != 0 && code / 100 != 2 &&
	    (code / 100 != 3 || rc == CURLE_OK || ctx->discarded)) {
		fetch_set_error("HTTP %ld", code);
		if (code == 429 || code == 503) {
			curl_easy_getinfo(ctx->h, CURLINFO_RETRY_AFTER, &ra);
			if (ra > 0)
				*retry_after = ra > MAX_RETRY_AFTER ?
				    MAX_RETRY_AFTER : (long)ra;
		}
		return code == 429 || code / 100 == 5 ?
		    FETCH_RETRY : FETCH_FAIL;
	}
	if (rc == CURLE_OK)
		return FETCH_DONE;
	if (ctx->too_large || rc == CURLE_FILESIZE_EXCEEDED) {
		fetch_set_error("response larger than max-bytes (%zu)",
		    ctx->max);
		return FETCH_FAIL;
	}
	s = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc);
	if (rc == CURLE_PEER_FAILED_VERIFICATION &&
	    fetch_verify_reason(ctx->h, why, sizeof(why)) != NULL)
		s = why;
	fetch_set_error("%s", log_escape(s, strlen(s), esc, sizeof(esc)));
	return fetch_transient(rc) ? FETCH_RETRY : FETCH_FAIL;
}

/*
 * The validators of the copy already held, as request headers: an ETag as
 * If-None-Match, a Last-Modified as If-Modified-Since.  Returns the list
 * (NULL when there are none) for the caller to free.
 */
static struct curl_slist *
fetch_cond_headers(const struct fetch_cond *cond)
{
	struct curl_slist *hdrs = NULL;
	char hdr[MAX_HEADER_VALUE + 32];

	/* Validators come from our own state, checked when they arrived. */
	if (cond != NULL && cond->etag != NULL &&
	    strlen(cond->etag) <= MAX_HEADER_VALUE) {
		snprintf(hdr, sizeof(hdr), "If-None-Match: %s", cond->etag);
		hdrs = fetch_slist_append(hdrs, hdr);
	}
	if (cond != NULL && cond->last_modified != NULL &&
	    strlen(cond->last_modified) <= MAX_HEADER_VALUE) {
		snprintf(hdr, sizeof(hdr), "If-Modified-Since: %s",
		    cond->last_modified);
		hdrs = fetch_slist_append(hdrs, hdr);
	}
	return hdrs;
}

/*
 * Run the attempts of one fetch on the prepared ctx: at most 1 +
 * min(retries, MAX_RETRIES), with a backoff that starts at retry_delay
 * and doubles, or the server's Retry-After, never above MAX_RETRY_AFTER.
 * uesc is the escaped URL for log lines.  Returns 0, or -1 after logging.
 */
static int
fetch_attempts(struct fetch_ctx *ctx, const struct fetch_opts *opts,
    char *errbuf, const char *uesc)
{
	enum fetch_outcome out;
	unsigned int attempt, tries, delay, wait;
	long retry_after;

	tries = 1 + (opts->retries < MAX_RETRIES ?
	    opts->retries : MAX_RETRIES);
	delay = opts->retry_delay;
	for (attempt = 1; ; attempt++) {
		out = fetch_attempt(ctx, errbuf, &retry_after);
		if (out == FETCH_DONE)
			return 0;
		if (out == FETCH_FAIL || attempt == tries) {
			log_err("%s: %s", uesc, fetch_error);
			return -1;
		}
		wait = retry_after >= 0 ? (unsigned int)retry_after :
		    delay < MAX_RETRY_AFTER ? delay : MAX_RETRY_AFTER;
		log_warnx("%s: %s (attempt %u of %u, retrying in %u s)",
		    uesc, fetch_error, attempt, tries, wait);
		if (wait > 0)
			sleep(wait);
		if (delay < MAX_RETRY_AFTER)
			delay *= 2;
	}
}

/*
 * See allowsync.h.  Each attempt is bounded by the transfer timeout (at
 * most MAX_TIMEOUT), so the call returns within (1 + retries) * timeout +
 * retries * MAX_RETRY_AFTER seconds.  On success the caller frees *res
 * with fetch_result_free(); on failure *res holds nothing.
 */
enum as_status
fetch_document(const char *url, const struct fetch_opts *opts,
    const struct fetch_cond *cond, struct fetch_result *res)
{
	struct fetch_ctx ctx;
	struct curl_slist *hdrs;
	char errbuf[CURL_ERROR_SIZE], uesc[ESCAPE_BUF];
	const char *why;
	enum as_status st = AS_ETEMPFAIL;

	memset(res, 0, sizeof(*res));
	memset(&ctx, 0, sizeof(ctx));
	fetch_error[0] = '\0';
	log_escape(url, strlen(url), uesc, sizeof(uesc));
	if ((why = fetch_url_check(url)) != NULL) {
		fetch_set_error("%s", why);
		log_err("%s: %s", uesc, why);
		return AS_ECONFIG;
	}
	if ((ctx.h = curl_easy_init()) == NULL) {
		fetch_set_error("cannot initialise libcurl");
		log_err("%s: %s", uesc, fetch_error);
		return AS_ETEMPFAIL;
	}
	ctx.max = opts->max_bytes;
	hdrs = fetch_cond_headers(cond);
	ctx.conditional = hdrs != NULL;
	if (fetch_setopt(ctx.h, opts, &ctx, errbuf) == -1 ||
	    curl_easy_setopt(ctx.h, CURLOPT_URL, url) != CURLE_OK ||
	    (hdrs != NULL && curl_easy_setopt(ctx.h, CURLOPT_HTTPHEADER,
	    hdrs) != CURLE_OK)) {
		fetch_set_error("libcurl refused a required option");
		log_err("%s: %s", uesc, fetch_error);
	} else if (fetch_attempts(&ctx, opts, errbuf, uesc) == 0) {
		if (ctx.buf == NULL)
			ctx.buf = xcalloc(1, 1);
		res->body = ctx.buf;
		res->len = ctx.len;
		ctx.buf = NULL;
		curl_easy_getinfo(ctx.h, CURLINFO_RESPONSE_CODE, &res->status);
		if (ctx.etag[0] != '\0')
			res->etag = xstrdup(ctx.etag);
		if (ctx.last_modified[0] != '\0')
			res->last_modified = xstrdup(ctx.last_modified);
		st = AS_OK;
	}
	free(ctx.buf);
	curl_easy_cleanup(ctx.h);
	curl_slist_free_all(hdrs);
	return st;
}

/* Free what fetch_document() stored in *res and zero it. */
void
fetch_result_free(struct fetch_result *res)
{
	free(res->body);
	free(res->etag);
	free(res->last_modified);
	memset(res, 0, sizeof(*res));
}
