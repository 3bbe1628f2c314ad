/*
 * The controller. Input (stdin, from live/encode.ts), one item a line:
 *   procs N | threads P N | hugepages N | thp always|madvise | timeout SECONDS | op SEQ P T KIND A0..A5
 *   | end P T  (thread T of process P has run its last op: its pipe closes, so it exits; with the
 *              process's last thread the controller waits until the process has exited, its mm gone)
 * P -1 is a kernel thread (swapon, swapoff, exit only). Output, one line an op:
 *   R SEQ RESULT VALUE|- PAGE|-        and at the end:  done | error <why>
 * and in THP mode (thp.c), after each R line of an op a program thread ran:
 *   O SEQ STATES FALLBACKS COLLAPSED   (a letter per model page; THP fault
 *   fallbacks and khugepaged collapses on the machine during the op)
 * Every run is bounded (alarm) and cleans up: program processes killed and
 * reaped, swap files off and removed, nr_hugepages restored; also on SIGINT,
 * SIGTERM and the time limit.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include "exec.h"

int hugetlb_fd[MAX_FILES];
int scratch_fd = -1;
int cmd_fd[MAX_PROCS][MAX_THREADS][2];
int reply_fd[MAX_PROCS][MAX_THREADS][2];
int nthreads[MAX_PROCS];

static int nprocs, forked[MAX_PROCS], exists[MAX_FILES];
static pid_t pgid;
static long saved_hugepages = -1;

static void cleanup(void) {
  if (pgid > 0) kill(-pgid, SIGKILL);
  while (waitpid(-1, 0, 0) > 0 || errno == EINTR) {}
  swap_cleanup();
  thp_restore();
  memfd_cleanup();
  for (int f = 0; f < MAX_FILES; f++) if (hugetlb_fd[f] > 0) close(hugetlb_fd[f]);
  if (saved_hugepages >= 0) write_hugepages(saved_hugepages);
}

static void on_signal(int sig) {
  printf("error signal %d\n", sig);
  fflush(stdout);
  cleanup();
  _exit(sig == SIGALRM ? 3 : 4);
}

static void fail(const char *why) {
  printf("error %s\n", why);
  cleanup();
  exit(2);
}

static void setup(long hugepages, const char *thp) {
  if (lock_machine() < 0) fail("cannot lock /var/tmp/mmfuzz-kernel.lock");
  if (thp[0] && thp_setup(thp) < 0) fail("cannot set /sys/kernel/mm/transparent_hugepage (root and THP needed)");
  if (hugepages >= 0) {
    saved_hugepages = read_hugepages();
    if (saved_hugepages < 0 || write_hugepages(hugepages) < 0 || read_hugepages() != hugepages) fail("cannot set /proc/sys/vm/nr_hugepages (root needed)");
  }
  for (int f = 0; f < MAX_FILES; f++) {
    hugetlb_fd[f] = memfd_create("mmfuzz-hugetlb", MFD_HUGETLB);
    if (hugetlb_fd[f] < 0) fail("memfd_create(MFD_HUGETLB) failed");
  }
  if (memfd_setup() < 0) fail("memfd_create failed");
  scratch_fd = memfd_create("mmfuzz-device", 0);
  if (scratch_fd < 0 || ftruncate(scratch_fd, PAGE) < 0) fail("memfd_create failed");
  for (int p = 0; p < nprocs; p++)
    for (int t = 0; t < nthreads[p]; t++)
      if (pipe(cmd_fd[p][t]) < 0 || pipe(reply_fd[p][t]) < 0) fail("pipe failed");
}

static void start(void) {
  pid_t p = fork();
  if (p < 0) fail("fork failed");
  if (p == 0) {
    setpgid(0, 0);
    /* Only the controller writes commands: a thread's pipe closed there is EOF for the thread (end_thread). */
    for (int q = 0; q < nprocs; q++)
      for (int t = 0; t < nthreads[q]; t++) close(cmd_fd[q][t][1]);
    start_process(0);
    _exit(0);
  }
  setpgid(p, p);
  pgid = p;
  pids[0] = p;
}

/* Send one op to its thread and wait for the answer (10 s at most). */
static int ask(int p, int t, const struct cmd *c, struct reply *r) {
  if (write(cmd_fd[p][t][1], c, sizeof(*c)) != (ssize_t)sizeof(*c)) return -1;
  struct pollfd pfd = { reply_fd[p][t][0], POLLIN, 0 };
  if (poll(&pfd, 1, 10000) != 1) return -1;
  return read(reply_fd[p][t][0], r, sizeof(*r)) == (ssize_t)sizeof(*r) ? 0 : -1;
}

static void run(int seq, int p, int t, struct cmd *c) {
  struct reply r = { -EINVAL, 0, -1, 0, 0, { 0 } };
  char obs[OBS_PAGES + 64];
  int observed = 0;
  if (c->kind == K_SWAPON) r.result = swap_on((int)c->a[0], c->a[1]);
  else if (c->kind == K_SWAPOFF) r.result = swap_off((int)c->a[0]);
  else if (p < 0) r.result = c->kind == K_EXIT ? 0 : -EINVAL;
  else if (c->kind == K_FORK && (c->a[0] < 0 || c->a[0] >= nprocs || c->a[0] == p)) r.result = -EINVAL;
  else if (c->kind == K_FORK && (c->a[0] == 0 || forked[c->a[0]])) r.result = -EAGAIN;
  else {
    int f = (int)(c->kind == K_HMMAP ? c->a[1] : c->a[0]);
    int hugetlb = c->kind >= K_HCREATE && c->kind <= K_HTRUNCATE;
    if (hugetlb && f >= 0 && f < MAX_FILES) c->exists = exists[f];
    if (c->kind == K_FORK) forked[c->a[0]] = 1;
    long fb0 = 0, co0 = 0, fb1 = 0, co1 = 0;
    if (thp_mode) thp_counters(&fb0, &co0);
    memfd_claim(c);
    if (ask(p, t, c, &r) < 0) fail("a program thread did not answer within 10 s");
    memfd_claimed(c, &r);
    if (thp_mode) thp_counters(&fb1, &co1);
    if (c->kind == K_FORK && r.result >= 0) pids[c->a[0]] = r.child_pid;
    observed = thp_mode && r.obs[0] != '-';
    if (observed) snprintf(obs, sizeof obs, "O %d %.*s %ld %ld\n", seq, OBS_PAGES, r.obs, fb1 - fb0, co1 - co0);
    if (hugetlb && f >= 0 && f < MAX_FILES && (c->kind == K_HMMAP || (c->kind == K_HCREATE && r.result == 0))) exists[f] = 1;
  }
  printf("R %d %lld ", seq, (long long)r.result);
  if (r.has_value) printf("%lld ", (long long)r.value);
  else printf("- ");
  if (r.page >= 0) printf("%lld\n", (long long)r.page);
  else printf("-\n");
  if (observed) fputs(obs, stdout);
  fflush(stdout);
}

int main(void) {
  char line[256];
  long hugepages = -1, timeout = 60;
  char thp[16] = "";
  int started = 0;
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  signal(SIGALRM, on_signal);
  signal(SIGPIPE, SIG_IGN);
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  while (fgets(line, sizeof(line), stdin)) {
    int p, t, seq;
    struct cmd c;
    char kind[16];
    memset(&c, 0, sizeof(c));
    if (sscanf(line, "procs %d", &nprocs) == 1) {
      if (nprocs < 1 || nprocs > MAX_PROCS) fail("too many processes");
    } else if (sscanf(line, "threads %d %d", &p, &t) == 2) {
      if (p < 0 || p >= nprocs || t < 0 || t > MAX_THREADS) fail("bad threads line");
      nthreads[p] = t;
    } else if (sscanf(line, "hugepages %ld", &hugepages) == 1) {
    } else if (sscanf(line, "thp %15s", thp) == 1) {
      if (strcmp(thp, "always") != 0 && strcmp(thp, "madvise") != 0) fail("thp must be always or madvise");
    } else if (sscanf(line, "end %d %d", &p, &t) == 2) {
      if (p < 0 || p >= nprocs || t < 0 || t >= nthreads[p]) fail("bad end line");
      if (!started) {
        alarm((unsigned)timeout);
        setup(hugepages, thp);
        start();
        started = 1;
      }
      if (end_thread(p, t) < 0) fail("a program process did not exit within 10 s of its last op");
    } else if (sscanf(line, "timeout %ld", &timeout) == 1) {
    } else if (sscanf(line, "op %d %d %d %d %lld %lld %lld %lld %lld %lld", &seq, &p, &t, &c.kind, (long long *)&c.a[0], (long long *)&c.a[1], (long long *)&c.a[2],
                      (long long *)&c.a[3], (long long *)&c.a[4], (long long *)&c.a[5]) == 10) {
      if (!started) {
        alarm((unsigned)timeout);
        setup(hugepages, thp);
        start();
        started = 1;
      }
      if (c.kind < 0 || c.kind >= K_NKINDS || p >= nprocs || t >= MAX_THREADS || (p >= 0 && t >= nthreads[p])) fail("bad op line");
      run(seq, p, t, &c);
    } else if (sscanf(line, "%15s", kind) == 1) {
      fail("unknown input line");
    }
  }
  if (!started) {
    setup(hugepages, thp);
    start();
  }
  for (int p = 0; p < nprocs; p++)
    for (int t = 0; t < nthreads[p]; t++)
      if (!thread_ended(p, t)) close(cmd_fd[p][t][1]);
  printf("done\n");
  fflush(stdout);
  cleanup();
  return 0;
}
