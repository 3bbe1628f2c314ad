/*
 * Program processes and threads: each program thread is a pthread that
 * reads its ops from its own pipe and answers on another (the controller made
 * every pipe before process 0 existed, so every process has them). fork runs
 * in the thread that asks for it; the child starts its own program threads.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "exec.h"

struct region regions[MAX_REGIONS];
struct pin pins[MAX_PINS];

struct thread_arg {
  int pid, tid;
};

static int read_full(int fd, void *buf, size_t n) {
  char *p = buf;
  while (n > 0) {
    ssize_t k = read(fd, p, n);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return -1;
    p += k;
    n -= (size_t)k;
  }
  return 0;
}

static void fork_op(const struct cmd *c, struct reply *r) {
  int child = (int)c->a[0];
  pid_t p = fork();
  if (p < 0) {
    r->result = -errno;
    return;
  }
  if (p == 0) {
    memset(pins, 0, sizeof(pins)); /* the child's UserSpace has no pins of its own */
    pins_forget();
    refs_forget();
    start_process(child);
    _exit(0);
  }
  r->result = child;
  r->child_pid = p;
}

static void *program_thread(void *arg) {
  struct thread_arg *t = arg;
  int in = cmd_fd[t->pid][t->tid][0], out = reply_fd[t->pid][t->tid][1];
  struct cmd c;
  while (read_full(in, &c, sizeof(c)) == 0) {
    struct reply r;
    memset(&r, 0, sizeof(r));
    if (c.kind == K_FORK) {
      r.page = -1;
      fork_op(&c, &r);
    } else {
      run_op(&c, &r, t->pid);
    }
    /* After the op, before the controller sends the next: the process's own pages (thp.c). */
    if (thp_mode && c.kind != K_EXIT) observe(r.obs);
    else memset(r.obs, '-', sizeof r.obs);
    if (write(out, &r, sizeof(r)) != (ssize_t)sizeof(r)) break;
    if (c.kind == K_EXIT) break;
  }
  return 0;
}

/* Run process pid's program threads until each has exited or its pipe closed; then the process exits. */
void start_process(int pid) {
  pthread_t th[MAX_THREADS];
  struct thread_arg args[MAX_THREADS];
  access_init();
  for (int t = 0; t < nthreads[pid]; t++) {
    args[t] = (struct thread_arg){ pid, t };
    pthread_create(&th[t], 0, program_thread, &args[t]);
  }
  for (int t = 0; t < nthreads[pid]; t++) pthread_join(th[t], 0);
}
