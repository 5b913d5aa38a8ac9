/*
 * The floor under a typical allowsync run: one HTTPS GET with libcurl and
 * nothing else, with the same trust setting (CAINFO only, no CApath) and
 * the same global initialisation (fetch_global_init(), which keeps
 * libssh2 from loading OpenSSL) and the same end (exit_now(), which skips
 * the libraries' destructors).
 * The benchmark runs it beside allowsync so that what allowsync adds on
 * top of its TLS dependency can be told from the dependency itself.
 * usage: curlget CA_FILE URL
 */
#include <stdio.h>

#include <curl/curl.h>

#include "allowsync.h"

static size_t
discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

int
main(int argc, char *argv[])
{
	CURLcode rc;
	CURL *h;

	if (argc != 3) {
		fprintf(stderr, "usage: curlget CA_FILE URL\n");
		return 2;
	}
	fetch_global_init();
	if ((h = curl_easy_init()) == NULL) {
		fprintf(stderr, "curlget: cannot initialise libcurl\n");
		return 1;
	}
	rc = curl_easy_setopt(h, CURLOPT_URL, argv[2]);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(h, CURLOPT_CAINFO, argv[1]);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	if (rc == CURLE_OK)
		rc = curl_easy_perform(h);
	if (rc != CURLE_OK)
		fprintf(stderr, "curlget: %s\n", curl_easy_strerror(rc));
	curl_easy_cleanup(h);
	fetch_global_cleanup();
#if defined(ALLOWSYNC_FULL_EXIT) || defined(__SANITIZE_ADDRESS__) || \
    defined(__SANITIZE_THREAD__)
	return rc == CURLE_OK ? 0 : 1;
#else
	exit_now(rc == CURLE_OK ? 0 : 1);
#endif
}
