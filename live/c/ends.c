/*
 * Threads end where the model ends them (main.c's `end P T`): the
 * controller closes the thread's command pipe, which is EOF for it, and with
 * its process's last thread waits until the process has exited.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "exec.h"

pid_t pids[MAX_PROCS];
static int closed[MAX_PROCS][MAX_THREADS];

/* A process has exited (exit_mm, then exit_notify: its mm is gone), 10 s at most. pidfd: it need not be our child. */
static int wait_exit(pid_t pid) {
  int fd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (fd < 0) return 0; /* gone already */
  struct pollfd pfd = { fd, POLLIN, 0 };
  int n = poll(&pfd, 1, 10000);
  close(fd);
  return n == 1 ? 0 : -1;
}

int end_thread(int p, int t) {
  if (closed[p][t]) return 0;
  close(cmd_fd[p][t][1]);
  closed[p][t] = 1;
  for (int i = 0; i < nthreads[p]; i++) if (!closed[p][i]) return 0;
  return pids[p] > 0 ? wait_exit(pids[p]) : 0;
}

int thread_ended(int p, int t) { return closed[p][t]; }
