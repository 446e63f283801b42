/* Passwords for encrypted cosign keys, read the way cosign reads them:
 * COSIGN_PASSWORD when it is set (even to the empty string), else a prompt
 * on the controlling terminal with echo off. */
#ifndef OCISYNC_PASSWORD_H
#define OCISYNC_PASSWORD_H
#include "cli.h"

/* *out receives the password (free with cli_password_free, which wipes it).
 * key_path names the key in the prompt (NULL for a new key); confirm asks
 * twice and requires both to match (keygen). Returns 0, or an exit code
 * after printing why (no terminal and no COSIGN_PASSWORD, mismatch). */
int cli_password_read(char **out, cli *c, const char *key_path, int confirm);
void cli_password_free(char *password);
/* One answer typed on the controlling terminal after prompt, echoed or
 * not (passwords); *out freed with cli_password_free. 0 or an exit code
 * after printing why. */
int cli_prompt(char **out, cli *c, const char *prompt, int echo);

#endif
