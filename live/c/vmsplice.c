/*
 * Plain page references (FOLL_GET) as user space takes them: vmsplice() of
 * the page into a pipe of its own (engine/program/handlers/refs.ts). vmsplice
 * without SPLICE_F_GIFT takes R/O references through iov_iter_get_pages2(),
 * which is get_user_pages_fast(): GUP-fast, falling back to the slow path
 * by itself. The executor cannot choose between them: the op's `fast` is
 * ignored (a sequential program sees the same either way: the slow path
 * succeeds wherever GUP-fast gave up).
 *
 * The pipe's buffer holds the page, not a copy: a read of the pipe copies
 * the page's contents as they are at that time. getRead tee()s the buffer
 * into a pipe made for the read (the same page, one more reference, nothing
 * consumed) and reads that, so any number of getReads see the page; put
 * drains the pipe and closes it, which drops the reference.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>
#include "exec.h"

struct ref {
  int used;
  int fd[2];
  uintptr_t addr;
};

/* Per process, as pins are; a fork's child closes its copies (refs_forget). */
static struct ref refs[MAX_PINS];

static void close_pipe(int fd[2]) {
  close(fd[0]);
  close(fd[1]);
}

/* The page a region's page index names (a hugetlb region counts in huge pages, as pins do). */
static uintptr_t page_addr(const struct region *reg, int64_t page) { return reg->start + page * reg->unit; }

static void get(const int64_t *a, struct ref *f, struct reply *r) {
  struct region *reg = op_region(a[1]);
  if (!reg || !f) return;
  if (f->used) {
    r->result = -EBUSY;
    return;
  }
  uintptr_t addr = page_addr(reg, a[2]);
  r->page = op_model_page(addr);
  int fd[2];
  if (pipe(fd) < 0) {
    r->result = -errno;
    return;
  }
  struct iovec iov = { .iov_base = (void *)addr, .iov_len = PAGE };
  ssize_t n = vmsplice(fd[1], &iov, 1, SPLICE_F_NONBLOCK);
  if (n != (ssize_t)PAGE) {
    r->result = n < 0 ? -errno : -EFAULT;
    close_pipe(fd);
    return;
  }
  *f = (struct ref){ 1, { fd[0], fd[1] }, addr };
  r->result = 0;
}

/* The word at `word` of the referenced page, through a tee of its pipe. */
static long get_read(const struct ref *f, int64_t word, int64_t *value) {
  static __thread char buf[PAGE];
  int t[2];
  if (word < 0 || word >= (int64_t)(PAGE / 8)) return -EINVAL;
  if (pipe(t) < 0) return -errno;
  long ret = 0;
  ssize_t n = tee(f->fd[0], t[1], PAGE, SPLICE_F_NONBLOCK);
  if (n != (ssize_t)PAGE) ret = n < 0 ? -errno : -EIO;
  else if (read(t[0], buf, PAGE) != (ssize_t)PAGE) ret = -EIO;
  else memcpy(value, buf + word * 8, 8);
  close_pipe(t);
  return ret;
}

void ref_op(const struct cmd *c, struct reply *r) {
  const int64_t *a = c->a;
  struct ref *f = a[0] >= 0 && a[0] < MAX_PINS ? &refs[a[0]] : 0;
  if (c->kind == K_GET) {
    get(a, f, r);
    return;
  }
  if (!f || !f->used) return;
  r->page = op_model_page(f->addr);
  if (c->kind == K_GETREAD) {
    int64_t v = 0;
    r->result = get_read(f, a[1], &v);
    if (r->result == 0) {
      r->value = v;
      r->has_value = 1;
    }
    return;
  }
  static __thread char drain[PAGE];
  r->result = read(f->fd[0], drain, PAGE) == (ssize_t)PAGE ? 0 : -EIO;
  close_pipe(f->fd);
  f->used = 0;
}

/* fork: the child's references are its own (none); its copies of the parent's pipes are closed. */
void refs_forget(void) {
  for (int i = 0; i < MAX_PINS; i++) {
    if (refs[i].used) close_pipe(refs[i].fd);
    refs[i].used = 0;
  }
}
