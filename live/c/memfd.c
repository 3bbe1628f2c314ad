/*
 * memfd (tmpfs) files, as engine/fs/memfd.ts has them: numbered files shared
 * by every process (memfd_create without MFD_HUGETLB), which the controller
 * makes before process 0 exists, so every process holds them; memfdCreate
 * sizes one, and the controller remembers which exist (a file the program
 * has not created yet is EBADF to mmap, ftruncate and fallocate; a second
 * create is EEXIST). The file's size is the kernel's: the model's limit
 * (MEMFD_MAX_PAGES) is not repeated here.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/mman.h>
#include <unistd.h>
#include "exec.h"

static int memfd_fd[MAX_FILES];
static int created[MAX_FILES]; /* the controller's */

int memfd_setup(void) {
  for (int f = 0; f < MAX_FILES; f++) {
    memfd_fd[f] = memfd_create("mmfuzz-memfd", 0);
    if (memfd_fd[f] < 0) return -1;
  }
  return 0;
}

void memfd_cleanup(void) {
  for (int f = 0; f < MAX_FILES; f++) if (memfd_fd[f] > 0) close(memfd_fd[f]);
}

static int is_memfd_op(int kind) { return kind >= K_MCREATE && kind <= K_MPUNCH; }

/* The file an op names: mmap's second argument, the others' first. */
static int file_of(const struct cmd *c) { return (int)(c->kind == K_MMMAP ? c->a[1] : c->a[0]); }

static int valid(int f) { return f >= 0 && f < MAX_FILES; }

/* The controller, before it sends the op: does its file exist? */
void memfd_claim(struct cmd *c) {
  if (is_memfd_op(c->kind) && valid(file_of(c))) c->exists = created[file_of(c)];
}

void memfd_claimed(const struct cmd *c, const struct reply *r) {
  if (c->kind == K_MCREATE && valid(file_of(c)) && r->result == 0) created[file_of(c)] = 1;
}

static long sys(long ret) { return ret < 0 ? -errno : ret; }

/* mmap's arguments: region, file, page, pages, prot | shared << 2, place (live/encode.ts). */
void memfd_op(const struct cmd *c, struct reply *r) {
  const int64_t *a = c->a;
  int f = file_of(c);
  if (!valid(f)) return;
  if (!c->exists && c->kind != K_MCREATE) {
    r->result = -EBADF;
    return;
  }
  int fd = memfd_fd[f];
  switch (c->kind) {
  case K_MCREATE:
    r->result = c->exists ? -EEXIST : sys(ftruncate(fd, a[1] * (long)PAGE));
    break;
  case K_MMMAP:
    op_map(r, a[0], a[5], a[3], a[4] & 3, (a[4] & 4) ? MAP_SHARED : MAP_PRIVATE, fd, a[2] * (long)PAGE);
    break;
  case K_MTRUNCATE:
    r->result = sys(ftruncate(fd, a[1] * (long)PAGE));
    break;
  case K_MPUNCH:
    r->result = sys(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, a[1] * (long)PAGE, a[2] * (long)PAGE));
    break;
  }
}
