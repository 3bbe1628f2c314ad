/* /proc/sys/vm/nr_hugepages, which a run sets to the model's pool and restores (main.c). */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include "exec.h"

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
