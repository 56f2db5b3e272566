// The static inline helpers are in include/CPlatform.h; the temporary-file registry is here.
#include "CPlatform.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
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
