/* Reading a key password without echoing it. The terminal's settings are
 * restored even when the user interrupts the prompt. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "password.h"

#define PASSWORD_MAX 1024

static int tty_fd = -1;
static struct termios saved;
static volatile sig_atomic_t echo_off;

static void restore_and_reraise(int sig)
{
	if (echo_off)
		tcsetattr(tty_fd, TCSAFLUSH, &saved);
	signal(sig, SIG_DFL);
	raise(sig);
}

static const int caught[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP };
#define NCAUGHT (sizeof caught / sizeof caught[0])

/* Echo off (and typeahead dropped: only what is typed after the prompt
 * counts), with handlers that put the terminal back if we are killed. */
static int echo_disable(int fd, struct sigaction old[NCAUGHT])
{
	struct sigaction sa;
	struct termios t;
	if (tcgetattr(fd, &saved) != 0)
		return 0;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = restore_and_reraise;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < NCAUGHT; i++)
		sigaction(caught[i], &sa, &old[i]);
	tty_fd = fd;
	echo_off = 1;
	t = saved;
	t.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK | ECHONL);
	t.c_lflag |= ICANON;
	tcsetattr(fd, TCSAFLUSH, &t);
	return 1;
}

static void echo_restore(int fd, struct sigaction old[NCAUGHT])
{
	tcsetattr(fd, TCSADRAIN, &saved);
	echo_off = 0;
	for (size_t i = 0; i < NCAUGHT; i++)
		sigaction(caught[i], &old[i], NULL);
}

/* One line from the terminal, echo off unless echo. Returns the length, -1
 * when nothing was answered, -2 when too long. The newline is not kept. */
static int read_line(int fd, char *buf, size_t size, const char *prompt, int echo)
{
	struct sigaction old[NCAUGHT];
	size_t len = 0;
	int too_long = 0, rc = 0;
	/* Echo goes off before the prompt shows, so nothing typed after it is echoed. */
	int have_termios = !echo && echo_disable(fd, old);
	if (write(fd, prompt, strlen(prompt)) < 0)
		rc = -1;
	while (rc == 0) {
		char ch;
		ssize_t n = read(fd, &ch, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = len ? 0 : -1; /* EOF with nothing typed: no answer */
			break;
		}
		if (ch == '\n' || ch == '\r')
			break;
		if (len + 1 < size)
			buf[len++] = ch;
		else
			too_long = 1;
		ch = 0;
	}
	buf[len] = '\0';
	if (have_termios)
		echo_restore(fd, old);
	if (!echo && write(fd, "\n", 1) < 0) {
		/* the newline is cosmetic (an echoed answer has its own) */
	}
	if (rc < 0)
		return -1;
	return too_long ? -2 : (int)len;
}

int cli_password_read(char **out, cli *c, const char *key_path, int confirm)
{
	*out = NULL;
	const char *env = getenv("COSIGN_PASSWORD");
	if (env) {
		if (!(*out = strdup(env))) {
			return cli_failf(c, OCI_ENOMEM, "out of memory");
		}
		return 0;
	}
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		return cli_failf(c, OCI_EPASSWORD, "%s needs a password and there is no terminal to ask on: "
				 "set COSIGN_PASSWORD (it may be empty)", key_path ? key_path : "the new private key");
	}
	char *a = malloc(PASSWORD_MAX), *b = confirm ? malloc(PASSWORD_MAX) : NULL;
	int rc = EXIT_FAIL;
	char prompt[512];
	if (!a || (confirm && !b)) {
		cli_failf(c, OCI_ENOMEM, "out of memory");
		goto cleanup;
	}
	a[0] = '\0';
	if (b)
		b[0] = '\0';
	if (key_path)
		snprintf(prompt, sizeof prompt, "Enter password for private key %s: ", key_path);
	else
		snprintf(prompt, sizeof prompt, "Enter password for private key: ");
	int n = read_line(fd, a, PASSWORD_MAX, prompt, 0);
	if (n >= 0 && confirm)
		n = read_line(fd, b, PASSWORD_MAX, "Enter password for private key again: ", 0);
	if (n == -2) {
		cli_failf(c, OCI_EPASSWORD, "the password is longer than %d bytes", PASSWORD_MAX - 1);
		goto cleanup;
	}
	if (n < 0) {
		cli_failf(c, OCI_EPASSWORD, "no password was entered");
		goto cleanup;
	}
	if (confirm && strcmp(a, b) != 0) {
		cli_failf(c, OCI_EPASSWORD, "the passwords do not match");
		goto cleanup;
	}
	*out = a;
	a = NULL;
	rc = 0;
cleanup:
	cli_password_free(a);
	cli_password_free(b);
	close(fd);
	return rc;
}

void cli_password_free(char *password)
{
	if (!password)
		return;
	sodium_memzero(password, strlen(password));
	free(password);
}

int cli_prompt(char **out, cli *c, const char *prompt, int echo)
{
	*out = NULL;
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return cli_failf(c, OCI_EPASSWORD, "there is no terminal to ask on");
	char *buf = malloc(PASSWORD_MAX);
	int n = buf ? read_line(fd, buf, PASSWORD_MAX, prompt, echo) : -3;
	close(fd);
	if (n >= 0) {
		*out = buf;
		return 0;
	}
	cli_password_free(buf);
	if (n == -3)
		return cli_failf(c, OCI_ENOMEM, "out of memory");
	if (n == -2)
		return cli_failf(c, OCI_EPASSWORD, "the answer is longer than %d bytes", PASSWORD_MAX - 1);
	return cli_failf(c, OCI_EPASSWORD, "nothing was entered");
}
