/* /proc/sys/vm/nr_hugepages, which a run sets to the model's pool and restores (main.c). */
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <unistd.h>
#include "exec.h"

/* One kernel-side run at a time on a machine: they all set nr_hugepages (live/repro too). The lock is held until exit. */
int lock_machine(void) {
  int fd = open("/var/tmp/mmfuzz-kernel.lock", O_CREAT | O_RDWR, 0600);
  return fd < 0 || flock(fd, LOCK_EX) < 0 ? -1 : 0;
}

long read_hugepages(void) {
  FILE *f = fopen("/proc/sys/vm/nr_hugepages", "r");
  long n = -1;
  if (f) {
    if (fscanf(f, "%ld", &n) != 1) n = -1;
    fclose(f);
  }
  return n;
}

int write_hugepages(long n) {
  int fd = open("/proc/sys/vm/nr_hugepages", O_WRONLY);
  if (fd < 0) return -1;
  char buf[32];
  int len = snprintf(buf, sizeof(buf), "%ld\n", n);
  int ok = write(fd, buf, len) == len;
  close(fd);
  return ok ? 0 : -1;
}
