/*
 * Swap on a file: a swap file of `slots` pages (at least 16, mkswap's
 * minimum is 10) with a version-1 swap header written here, then swapon().
 * The controller alone runs these, and swap_cleanup() turns every device
 * off and removes its file at the end, on a signal and on the time limit.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/swap.h>
#include <unistd.h>
#include "exec.h"

static char paths[MAX_DEVS][128];
static int on[MAX_DEVS];

static int write_swapfile(const char *path, long pages) {
  int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
  if (fd < 0) return -errno;
  static char page[PAGE];
  for (long i = 0; i < pages; i++) {
    memset(page, 0, sizeof(page));
    if (i == 0) {
      uint32_t version = 1, last_page = (uint32_t)(pages - 1);
      memcpy(page + 1024, &version, 4);
      memcpy(page + 1028, &last_page, 4);
      memcpy(page + PAGE - 10, "SWAPSPACE2", 10);
    }
    if (write(fd, page, PAGE) != (ssize_t)PAGE) {
      close(fd);
      return -EIO;
    }
  }
  fsync(fd);
  close(fd);
  return 0;
}

int swap_on(int dev, long slots) {
  if (dev < 0 || dev >= MAX_DEVS) return -EINVAL;
  if (on[dev]) return -EBUSY;
  snprintf(paths[dev], sizeof(paths[dev]), "/var/tmp/mmfuzz-swap-%d-%d", (int)getpid(), dev);
  int err = write_swapfile(paths[dev], (slots + 1 < 16 ? 16 : slots + 1));
  if (err) return err;
  if (swapon(paths[dev], 0) < 0) {
    err = -errno;
    unlink(paths[dev]);
    return err;
  }
  on[dev] = 1;
  return 0;
}

int swap_off(int dev) {
  if (dev < 0 || dev >= MAX_DEVS || !on[dev]) return -EINVAL;
  if (swapoff(paths[dev]) < 0) return -errno;
  on[dev] = 0;
  unlink(paths[dev]);
  return 0;
}

void swap_cleanup(void) {
  for (int d = 0; d < MAX_DEVS; d++) if (on[d]) swap_off(d);
}
