/* User loads and stores that may fault: SIGSEGV and SIGBUS become -EFAULT, as in the model. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include "exec.h"

static __thread sigjmp_buf fault_jmp;
static __thread volatile int in_access;

static void on_fault(int sig) {
  (void)sig;
  if (in_access) siglongjmp(fault_jmp, 1);
  signal(sig, SIG_DFL);
  raise(sig);
}

void access_init(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_fault;
  sa.sa_flags = SA_NODEFER;
  sigaction(SIGSEGV, &sa, 0);
  sigaction(SIGBUS, &sa, 0);
}

/* Read or write the 8-byte word at addr. 0, or -EFAULT. */
long access_word(uintptr_t addr, int write, int64_t value, int64_t *out) {
  volatile int64_t *p = (volatile int64_t *)addr;
  if (sigsetjmp(fault_jmp, 1)) {
    in_access = 0;
    return -EFAULT;
  }
  in_access = 1;
  if (write) *p = value;
  else *out = *p;
  in_access = 0;
  return 0;
}
