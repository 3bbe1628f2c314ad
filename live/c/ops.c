/*
 * One op in a program thread, as engine/program/executor.ts runs it in the
 * model: regions by handle (a missing one fails with EINVAL before any
 * syscall), a hugetlb region counting in huge pages, pins by handle.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/mman.h>
#include <unistd.h>
#include "exec.h"

static int prot_bits(int64_t p) { return p == 3 ? PROT_READ | PROT_WRITE : p == 1 ? PROT_READ : PROT_NONE; }

static const int advice_code[] = { MADV_DONTNEED, MADV_WIPEONFORK, MADV_KEEPONFORK, MADV_DONTFORK, MADV_DOFORK, MADV_PAGEOUT, MADV_COLD, MADV_WILLNEED, MADV_FREE, MADV_HUGEPAGE, MADV_NOHUGEPAGE };

static struct region *region_of(int64_t h) { return h >= 0 && h < MAX_REGIONS && regions[h].used ? &regions[h] : 0; }

static long sys(long ret) { return ret < 0 ? -errno : ret; }

static void set_region(int64_t h, uintptr_t start, long pages, unsigned long sz) {
  regions[h] = (struct region){ 1, start, pages, sz };
}

/* The model page of a kernel address (in the arenas), or the address in pages elsewhere. */
static int64_t model_page(uintptr_t addr) {
  if (addr >= HUGE_ARENA && addr < HUGE_ARENA + (1UL << 40)) return (int64_t)((addr - HUGE_ARENA) / HPAGE * MODEL_HPAGE);
  if (addr >= ARENA && addr < ARENA + (1UL << 40)) return (int64_t)((addr - ARENA) / unit);
  return (int64_t)(addr / PAGE);
}

/* Where to place a mapping the model put at model page `place` (-1: the model's failed; the kernel chooses). */
static void *hint(int64_t place, unsigned long sz) {
  if (place < 0) return (void *)(ARENA + (1UL << 36)); /* a hint only, far from the arena's own pages */
  return (void *)(sz == HPAGE ? HUGE_ARENA + place / MODEL_HPAGE * HPAGE : ARENA + place * unit);
}

static void mapping(struct reply *r, void *p, int64_t h, long pages, unsigned long sz) {
  if (p == MAP_FAILED) {
    r->result = -errno;
    return;
  }
  if (h < 0 || h >= MAX_REGIONS) {
    r->result = -EINVAL;
    return;
  }
  set_region(h, (uintptr_t)p, pages, sz);
  r->result = r->page = model_page((uintptr_t)p);
}

static int place_flags(int64_t place) { return place >= 0 ? MAP_FIXED_NOREPLACE : 0; }

static void mremap_op(const int64_t *a, struct reply *r) {
  struct region *reg = region_of(a[0]), *to = 0;
  if (!reg) return;
  int flags = (a[2] ? MREMAP_MAYMOVE : 0) | (a[5] ? MREMAP_DONTUNMAP : 0);
  if (a[3] >= 0 && !(to = region_of(a[3]))) return;
  if (to) flags |= MREMAP_FIXED | MREMAP_MAYMOVE;
  r->page = model_page(reg->start);
  void *dest = to ? (void *)to->start : 0;
  /* The model moved the region to a[4]: so does the kernel (the target was free in the model's layout). */
  if (!to && a[2] && a[4] >= 0 && (uintptr_t)hint(a[4], unit) != reg->start) {
    flags |= MREMAP_FIXED;
    dest = hint(a[4], unit);
  }
  void *p = mremap((void *)reg->start, reg->pages * reg->unit, a[1] * unit, flags, dest);
  if (p == MAP_FAILED) {
    r->result = -errno;
    return;
  }
  if (to && a[3] != a[0]) regions[a[3]].used = 0;
  set_region(a[0], (uintptr_t)p, a[1], unit);
  r->result = model_page((uintptr_t)p);
}

static void range_op(const struct cmd *c, struct reply *r) {
  const int64_t *a = c->a;
  struct region *reg = region_of(a[0]);
  if (!reg) return;
  uintptr_t addr = reg->start + a[1] * reg->unit;
  size_t len = a[2] * reg->unit;
  r->page = model_page(addr);
  if (c->kind == K_MUNMAP) {
    r->result = sys(munmap((void *)addr, len));
    if (r->result == 0 && a[1] == 0 && a[2] >= reg->pages) reg->used = 0;
  } else if (c->kind == K_MPROTECT) {
    r->result = sys(mprotect((void *)addr, len, prot_bits(a[3])));
  } else {
    r->result = a[3] >= 0 && a[3] < (int64_t)(sizeof advice_code / sizeof advice_code[0]) ? sys(madvise((void *)addr, len, advice_code[a[3]])) : -EINVAL;
  }
}

static void access_op(const struct cmd *c, struct reply *r) {
  const int64_t *a = c->a;
  struct region *reg = region_of(a[0]);
  if (!reg) return;
  uintptr_t addr = reg->start + a[1] * reg->unit;
  int64_t v = c->kind == K_WRITE ? a[3] : 0;
  r->page = model_page(addr);
  r->result = access_word(addr + a[2] * 8, c->kind == K_WRITE, v, &v);
  if (r->result == 0 || c->kind == K_WRITE) {
    r->value = v;
    r->has_value = 1;
  }
}

static void pin_op(const struct cmd *c, struct reply *r) {
  const int64_t *a = c->a;
  struct pin *p = a[0] >= 0 && a[0] < MAX_PINS ? &pins[a[0]] : 0;
  if (c->kind == K_PIN) {
    struct region *reg = region_of(a[1]);
    if (!reg || !p) return;
    if (p->used) {
      r->result = -EBUSY;
      return;
    }
    uintptr_t addr = reg->start + a[2] * reg->unit;
    r->page = model_page(addr);
    int ring = pin_page(addr);
    if (ring < 0) {
      r->result = ring;
      return;
    }
    *p = (struct pin){ 1, ring, addr };
    r->result = 0;
    return;
  }
  if (!p || !p->used) return;
  r->page = model_page(p->addr);
  if (c->kind == K_UNPIN) {
    r->result = unpin_page(p->ring);
    p->used = 0;
    return;
  }
  int64_t v = c->kind == K_PINWRITE ? a[2] : 0;
  r->result = pin_dma(p->ring, p->addr + a[1] * 8, c->kind == K_PINWRITE, &v);
  if (r->result == 0) {
    r->value = v;
    r->has_value = 1;
  }
}

static void hugetlb_op(const struct cmd *c, struct reply *r) {
  const int64_t *a = c->a;
  int f = (int)(c->kind == K_HMMAP ? a[1] : a[0]);
  if (f < 0 || f >= MAX_FILES) return;
  int fd = hugetlb_fd[f];
  switch (c->kind) {
  case K_HCREATE:
    r->result = c->exists ? -EEXIST : sys(ftruncate(fd, a[1] * HPAGE));
    break;
  case K_HMMAP:
    mapping(r, mmap(hint(a[5], HPAGE), a[3] * HPAGE, prot_bits(a[4]), MAP_SHARED | place_flags(a[5]), fd, a[2] * HPAGE), a[0], a[3], HPAGE);
    break;
  case K_HPUNCH:
    r->result = !c->exists ? -EBADF : sys(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, a[1] * HPAGE, a[2] * HPAGE));
    break;
  case K_HTRUNCATE:
    r->result = !c->exists ? -EBADF : sys(ftruncate(fd, a[1] * HPAGE));
    break;
  }
}

/* Fork and exit are the thread's own business (process.c); the controller runs swap. */
void run_op(const struct cmd *c, struct reply *r, int pid) {
  (void)pid;
  r->result = -EINVAL;
  r->page = -1;
  r->has_value = 0;
  switch (c->kind) {
  case K_MMAP:
    mapping(r, mmap(hint(c->a[3], unit), c->a[1] * unit, prot_bits(c->a[2]), (c->a[5] ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS | (c->a[4] ? MAP_GROWSDOWN : 0) | place_flags(c->a[3]), -1, 0), c->a[0], c->a[1], unit);
    break;
  case K_MREMAP: mremap_op(c->a, r); break;
  case K_MUNMAP: case K_MPROTECT: case K_MADVISE: range_op(c, r); break;
  case K_READ: case K_WRITE: access_op(c, r); break;
  case K_PIN: case K_PINREAD: case K_PINWRITE: case K_UNPIN: pin_op(c, r); break;
  case K_HCREATE: case K_HMMAP: case K_HPUNCH: case K_HTRUNCATE: hugetlb_op(c, r); break;
  case K_GET: case K_GETREAD: case K_PUT: ref_op(c, r); break;
  case K_MCREATE: case K_MMMAP: case K_MTRUNCATE: case K_MPUNCH: memfd_op(c, r); break;
  case K_EXIT: r->result = 0; break;
  }
}

struct region *op_region(int64_t h) { return region_of(h); }

int64_t op_model_page(uintptr_t addr) { return model_page(addr); }

/* mmap of a file (or anonymous memory) in base pages, where the model put it, as region h. */
void op_map(struct reply *r, int64_t h, int64_t place, long pages, int64_t prot, int flags, int fd, long off) {
  mapping(r, mmap(hint(place, PAGE), pages * PAGE, prot_bits(prot), flags | place_flags(place), fd, off), h, pages, PAGE);
}
