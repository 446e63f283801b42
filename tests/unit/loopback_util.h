/* A tiny HTTP/1.1 server side for unit tests that talk to a thread on
 * 127.0.0.1 (one request per connection, "Connection: close"). */
#ifndef OCI_LOOPBACK_UTIL_H
#define OCI_LOOPBACK_UTIL_H
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* A listening socket on 127.0.0.1 at a free port: the fd, or -1. */
static inline int loopback_listen(int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 16) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &al) < 0) {
		perror("listening on loopback");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

/* Reads a request's head (up to the blank line) into req, NUL-terminated. */
static inline void loopback_read_request(int fd, char *req, size_t n)
{
	size_t len = 0;
	ssize_t r;
	while (len < n - 1 && (r = read(fd, req + len, n - 1 - len)) > 0) {
		len += (size_t)r;
		req[len] = '\0';
		if (strstr(req, "\r\n\r\n"))
			break;
	}
	req[len] = '\0';
}

/* Answers with status ("200 OK"), extra header lines (each ending in
 * "\r\n", may be "") and body. */
static inline void loopback_reply(int fd, const char *status, const char *extra, const char *body)
{
	char head[1024];
	int n = snprintf(head, sizeof head, "HTTP/1.1 %s\r\nContent-Type: application/json\r\n"
			 "Content-Length: %zu\r\nConnection: close\r\n%s\r\n", status, strlen(body), extra);
	if (write(fd, head, (size_t)n) != n || write(fd, body, strlen(body)) != (ssize_t)strlen(body))
		perror("loopback_reply: write");
}

#endif
