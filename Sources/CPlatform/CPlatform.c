// The static inline helpers are in include/CPlatform.h; the temporary-file registry is here.
#include "CPlatform.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

enum { cml_temporary_slots = 256 };

/// Registered temporary paths (owned copies); a slot is taken and released with atomic exchanges, so the signal
/// handler never sees a half-written entry.
static _Atomic(char *) cml_temporaries[cml_temporary_slots];

int cml_temporary_register(const char *path) {
  char *copy = strdup(path);
  if (copy == NULL) return -1;
  for (int i = 0; i < cml_temporary_slots; i++) {
    char *expected = NULL;
    if (atomic_compare_exchange_strong(&cml_temporaries[i], &expected, copy)) return i;
  }
  free(copy);
  return -1;
}

void cml_temporary_unregister(int slot) {
  if (slot < 0 || slot >= cml_temporary_slots) return;
  char *path = atomic_exchange(&cml_temporaries[slot], NULL);
  free(path);
}

void cml_remove_temporaries(void) {
  for (int i = 0; i < cml_temporary_slots; i++) {
    // The copy is leaked on purpose: free is not async-signal-safe, and the process is ending.
    char *path = atomic_exchange(&cml_temporaries[i], NULL);
    if (path != NULL) unlink(path);
  }
}

static void cml_cleanup_and_die(int signal_number) {
  cml_remove_temporaries();
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = SIG_DFL;
  sigemptyset(&action.sa_mask);
  sigaction(signal_number, &action, NULL);
  raise(signal_number);
}

int cml_flush_standard_output(void) {
  errno = 0;
  if (fflush(stdout) != 0 || ferror(stdout)) return errno != 0 ? errno : EIO;
  return 0;
}

void cml_install_cleanup_handlers(void) {
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = cml_cleanup_and_die;
  sigemptyset(&action.sa_mask);
  int signals[] = {SIGINT, SIGTERM, SIGHUP};
  for (unsigned k = 0; k < sizeof signals / sizeof signals[0]; k++) {
    struct sigaction previous;
    // A signal ignored by the parent (nohup, a background job's SIGINT) stays ignored.
    if (sigaction(signals[k], NULL, &previous) == 0 && previous.sa_handler == SIG_IGN) continue;
    sigaction(signals[k], &action, NULL);
  }
}

static char cml_oom_tool[64];
static char cml_oom_remedy[512];
static struct sigaction cml_abort_previous;

/// Appends `text` to `buffer` (of `size` bytes, `*used` taken so far); async-signal-safe.
static void cml_append(char *buffer, size_t size, size_t *used, const char *text) {
  while (*text != 0 && *used + 1 < size) buffer[(*used)++] = *text++;
  buffer[*used] = 0;
}

/// Appends the decimal digits of `value`; async-signal-safe.
static void cml_append_number(char *buffer, size_t size, size_t *used, unsigned long long value) {
  char digits[24];
  int n = 0;
  do {
    digits[n++] = (char)('0' + value % 10);
    value /= 10;
  } while (value != 0 && n < 23);
  char text[24];
  for (int i = 0; i < n; i++) text[i] = digits[n - 1 - i];
  text[n] = 0;
  cml_append(buffer, size, used, text);
}

static void cml_out_of_memory(int signal_number) {
  int error = errno;
  if (error != ENOMEM) {
    // Not a refused allocation: the handler installed before (the runtime's crash report) gets the signal, which
    // is blocked until this handler returns.
    sigaction(SIGABRT, &cml_abort_previous, NULL);
    raise(signal_number);
    return;
  }
  cml_remove_temporaries();
  char message[1024];
  size_t used = 0;
  cml_append(message, sizeof message, &used, cml_oom_tool);
  cml_append(message, sizeof message, &used, ": error: out of memory: the system refused an allocation");
  struct rlimit limit;
  if (getrlimit(RLIMIT_AS, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    cml_append(message, sizeof message, &used, " under the address-space limit (ulimit -v ");
    cml_append_number(message, sizeof message, &used, (unsigned long long)limit.rlim_cur / 1024);
    cml_append(message, sizeof message, &used, ")");
  }
  if (cml_oom_remedy[0] != 0) {
    cml_append(message, sizeof message, &used, "; ");
    cml_append(message, sizeof message, &used, cml_oom_remedy);
  }
  cml_append(message, sizeof message, &used, "\n");
  ssize_t ignored = write(2, message, used);
  (void)ignored;
  _exit(71);
}

void cml_install_out_of_memory_handler(const char *tool, const char *remedy) {
  strncpy(cml_oom_tool, tool, sizeof cml_oom_tool - 1);
  strncpy(cml_oom_remedy, remedy, sizeof cml_oom_remedy - 1);
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = cml_out_of_memory;
  sigemptyset(&action.sa_mask);
  sigaction(SIGABRT, &action, &cml_abort_previous);
}
