/* sync --http-bind: /metrics (the text of the metrics file), /healthz (the
 * process answers) and /readyz (the last step succeeded, recently enough),
 * served by libmicrohttpd in a thread of its own while the loop runs. The
 * loop hands over each step's outcome under a mutex; nothing else is
 * shared. The thread inherits the caller's signal mask, so the signals the
 * loop waits for keep reaching the loop's thread. */
#include "sync_internal.h"
#include "error_internal.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

struct sync_http {
	struct MHD_Daemon *d;
	pthread_mutex_t mu;
	char *metrics;          /* the last step's metrics text; NULL before the first */
	int last_ok;            /* the last step succeeded */
	int64_t last_ok_ms;     /* monotonic time of the last success, 0 = none */
	int64_t ready_window_ms;
};

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Parses addr into sa; OCI_EINVALID naming what is wrong (the caller
 * adds OCI_HINT_HTTP_BIND: one hint for every way the address is wrong). */
static int parse_bind(struct sockaddr_storage *sa, const char *addr)
{
	memset(sa, 0, sizeof *sa);
	if (!addr || !*addr)
		return oci_error_set(OCI_EINVALID, "the HTTP bind address is empty: write one like 127.0.0.1:9090, :9090 or 9090");
	char host[64] = "";
	const char *port;
	const char *colon = strrchr(addr, ':');
	if (addr[0] == '[') {
		const char *close = strchr(addr, ']');
		if (!close || close[1] != ':' || (size_t)(close - addr - 1) >= sizeof host)
			return oci_error_set(OCI_EINVALID, "the HTTP bind address '%s': an IPv6 address is written [ADDR]:PORT", addr);
		memcpy(host, addr + 1, (size_t)(close - addr - 1));
		port = close + 2;
	} else if (colon) {
		if ((size_t)(colon - addr) >= sizeof host)
			return oci_error_set(OCI_EINVALID, "the HTTP bind address '%s': the host is too long", addr);
		memcpy(host, addr, (size_t)(colon - addr));
		port = colon + 1;
		if (strchr(host, ':'))
			return oci_error_set(OCI_EINVALID, "the HTTP bind address '%s': an IPv6 address is written [ADDR]:PORT", addr);
		if (!host[0]) /* ":PORT": every interface, asked for explicitly */
			snprintf(host, sizeof host, "0.0.0.0");
	} else {
		/* a bare port: loopback, nothing exposed unless asked for */
		snprintf(host, sizeof host, "127.0.0.1");
		port = addr;
	}
	char *end;
	long p = strtol(port, &end, 10);
	if (!*port || *end || p < 1 || p > 65535)
		return oci_error_set(OCI_EINVALID, "the HTTP bind address '%s': the port must be a number from 1 to 65535", addr);
	struct sockaddr_in *v4 = (struct sockaddr_in *)sa;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)sa;
	if (addr[0] != '[' && inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)p);
	} else if (addr[0] == '[' && inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)p);
	} else {
		return oci_error_set(OCI_EINVALID, "the HTTP bind address '%s': '%s' is not an IP address (names are not resolved)",
				     addr, host);
	}
	return 0;
}

int oci_sync_parse_bind(const char *addr)
{
	struct sockaddr_storage sa;
	return parse_bind(&sa, addr) ? oci_error_hint_set(OCI_HINT_HTTP_BIND, NULL) : 0;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned code, const char *type, const char *body)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", type);
	enum MHD_Result ret = MHD_queue_response(conn, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
			      const char *version, const char *upload_data, size_t *upload_size, void **con_cls)
{
	(void)version;
	(void)upload_data;
	(void)upload_size;
	(void)con_cls;
	sync_http *h = cls;
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", "only GET and HEAD\n");
	if (!strcmp(url, "/healthz"))
		return reply(conn, MHD_HTTP_OK, "text/plain", "ok\n");
	enum MHD_Result ret;
	pthread_mutex_lock(&h->mu);
	if (!strcmp(url, "/metrics")) {
		/* before the first step there is nothing to report yet: an empty
		 * exposition is valid and tells the scraper so */
		ret = reply(conn, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", h->metrics ? h->metrics : "");
	} else if (!strcmp(url, "/readyz")) {
		int64_t now = mono_ms();
		if (!h->last_ok_ms)
			ret = reply(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain", "no sync has succeeded yet\n");
		else if (!h->last_ok)
			ret = reply(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain", "the last sync failed\n");
		else if (now - h->last_ok_ms > h->ready_window_ms)
			ret = reply(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain", "the last sync is too old\n");
		else
			ret = reply(conn, MHD_HTTP_OK, "text/plain", "ok\n");
	} else {
		ret = reply(conn, MHD_HTTP_NOT_FOUND, "text/plain", "not found: /metrics, /healthz, /readyz\n");
	}
	pthread_mutex_unlock(&h->mu);
	return ret;
}

int sync_http_start(sync_http **out, const char *addr, int64_t interval_ms)
{
	*out = NULL;
	struct sockaddr_storage sa;
	if (parse_bind(&sa, addr))
		return oci_error_hint_set(OCI_HINT_HTTP_BIND, NULL);
	sync_http *h = calloc(1, sizeof *h);
	if (!h)
		return OCI_ENOMEM_SET();
	pthread_mutex_init(&h->mu, NULL);
	h->ready_window_ms = interval_ms * OCI_SYNC_READY_INTERVALS;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD;
	if (sa.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* no MHD_USE_ERROR_LOG: the library prints nothing */
	h->d = MHD_start_daemon(flags, 0, NULL, NULL, handle, h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10, MHD_OPTION_CONNECTION_LIMIT, (unsigned)16,
				MHD_OPTION_END);
	if (!h->d) {
		pthread_mutex_destroy(&h->mu);
		free(h);
		oci_error_set(OCI_ERROR, "the HTTP bind address %s: cannot listen there (in use, or not an address of this host)",
			      addr);
		return oci_error_hint_set(OCI_HINT_HTTP_BIND, NULL);
	}
	*out = h;
	return 0;
}

void sync_http_update(sync_http *h, const char *metrics, int ok)
{
	char *copy = metrics ? strdup(metrics) : NULL;
	pthread_mutex_lock(&h->mu);
	if (copy) {
		free(h->metrics);
		h->metrics = copy;
	}
	h->last_ok = ok;
	if (ok)
		h->last_ok_ms = mono_ms();
	pthread_mutex_unlock(&h->mu);
}

void sync_http_stop(sync_http *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->d);
	pthread_mutex_destroy(&h->mu);
	free(h->metrics);
	free(h);
}
