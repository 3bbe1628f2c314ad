/*
 * Pins as io_uring fixed buffers: IORING_REGISTER_BUFFERS pins the page with
 * FOLL_WRITE | FOLL_LONGTERM (io_pin_pages). The "device" reads the pinned
 * page with IORING_OP_WRITE_FIXED (page -> scratch file) and writes it with
 * IORING_OP_READ_FIXED (scratch file -> page): DMA, no page tables.
 * Raw syscalls; one ring per pin.
 */
#include <errno.h>
#include <linux/io_uring.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>
#include "exec.h"

struct ring {
  int fd;
  unsigned *sq_tail, *sq_mask, *sq_array, *cq_head, *cq_tail, *cq_mask;
  struct io_uring_sqe *sqes;
  struct io_uring_cqe *cqes;
};

static struct ring rings[MAX_PINS];

static struct ring *ring_of(int fd) {
  for (int i = 0; i < MAX_PINS; i++) if (rings[i].fd == fd && fd > 0) return &rings[i];
  return 0;
}

static int ring_open(struct ring *r) {
  struct io_uring_params p;
  memset(&p, 0, sizeof(p));
  int fd = (int)syscall(__NR_io_uring_setup, 4, &p);
  if (fd < 0) return -errno;
  size_t sq_len = p.sq_off.array + p.sq_entries * sizeof(unsigned);
  size_t cq_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
  if (cq_len > sq_len) sq_len = cq_len;
  char *sq = mmap(0, sq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQ_RING);
  void *sqes = mmap(0, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQES);
  if (sq == MAP_FAILED || sqes == MAP_FAILED) {
    close(fd);
    return -ENOMEM;
  }
  r->fd = fd;
  r->sq_tail = (unsigned *)(sq + p.sq_off.tail);
  r->sq_mask = (unsigned *)(sq + p.sq_off.ring_mask);
  r->sq_array = (unsigned *)(sq + p.sq_off.array);
  r->cq_head = (unsigned *)(sq + p.cq_off.head);
  r->cq_tail = (unsigned *)(sq + p.cq_off.tail);
  r->cq_mask = (unsigned *)(sq + p.cq_off.ring_mask);
  r->sqes = sqes;
  r->cqes = (struct io_uring_cqe *)(sq + p.cq_off.cqes);
  return fd;
}

int pin_page(uintptr_t addr) {
  struct ring *r = 0;
  for (int i = 0; i < MAX_PINS && !r; i++) if (rings[i].fd <= 0) r = &rings[i];
  if (!r) return -EBUSY;
  int fd = ring_open(r);
  if (fd < 0) return fd;
  struct iovec iov = { .iov_base = (void *)addr, .iov_len = PAGE };
  if (syscall(__NR_io_uring_register, fd, IORING_REGISTER_BUFFERS, &iov, 1) < 0) {
    int e = errno;
    close(fd);
    r->fd = 0;
    return -e;
  }
  return fd;
}

/* One fixed-buffer transfer of the 8 bytes at addr (inside the registered page). */
long pin_dma(int fd, uintptr_t addr, int write, int64_t *value) {
  struct ring *r = ring_of(fd);
  if (!r) return -EINVAL;
  if (write && pwrite(scratch_fd, value, 8, 0) != 8) return -EIO;
  unsigned tail = *r->sq_tail, idx = tail & *r->sq_mask;
  struct io_uring_sqe *sqe = &r->sqes[idx];
  memset(sqe, 0, sizeof(*sqe));
  sqe->opcode = write ? IORING_OP_READ_FIXED : IORING_OP_WRITE_FIXED;
  sqe->fd = scratch_fd;
  sqe->addr = addr;
  sqe->len = 8;
  sqe->off = 0;
  sqe->buf_index = 0;
  r->sq_array[idx] = idx;
  __atomic_store_n(r->sq_tail, tail + 1, __ATOMIC_RELEASE);
  if (syscall(__NR_io_uring_enter, fd, 1, 1, IORING_ENTER_GETEVENTS, 0, 0) < 0) return -errno;
  unsigned head = *r->cq_head;
  if (head == __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE)) return -EIO;
  int res = r->cqes[head & *r->cq_mask].res;
  __atomic_store_n(r->cq_head, head + 1, __ATOMIC_RELEASE);
  if (res < 0) return res;
  if (!write && pread(scratch_fd, value, 8, 0) != 8) return -EIO;
  return 0;
}

/* Unregistering unpins at once; closing the ring alone would unpin from a worker, later. */
int unpin_page(int fd) {
  struct ring *r = ring_of(fd);
  if (!r) return -EINVAL;
  int ret = (int)syscall(__NR_io_uring_register, fd, IORING_UNREGISTER_BUFFERS, 0, 0);
  close(fd);
  r->fd = 0;
  return ret < 0 ? -errno : 0;
}

/* fork: the child's pins are its own (none); its copies of the parent's rings are closed. */
void pins_forget(void) {
  for (int i = 0; i < MAX_PINS; i++) {
    if (rings[i].fd > 0) close(rings[i].fd);
    rings[i].fd = 0;
  }
}
