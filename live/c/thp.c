/*
 * THP mode: the sysfs knobs a THP differential needs, set for one run and
 * restored after it (cleanup() in main.c, also on SIGINT, SIGTERM and the
 * time limit), and what a process observes of its own pages after each op.
 *
 * Knobs, and why (live/abstractions.ts names what they cannot rule out):
 *  enabled = always | madvise     the mode under test (the model's Program.thpAlways)
 *  defrag = always                direct reclaim and compaction at fault: a THP fault
 *                                 falls back to small pages only when it must
 *  use_zero_page = 1              the default: a read fault maps the huge zero page, as the
 *                                 model's does (engine/mm/huge_memory.ts)
 *  shrink_underused = 0           no shrinker splitting THPs of zero-filled pages
 *  khugepaged/scan_sleep_millisecs, alloc_sleep_millisecs = 1 day, pages_to_scan = 8,
 *  max_ptes_none = max_ptes_swap = max_ptes_shared = 0
 *                                 khugepaged scans once when the first mm registers (it waits
 *                                 with no timeout while it has none), then sleeps: that one
 *                                 pass may collapse only a range of 512 present, unshared PTEs
 *  hugepages-<size>kB/enabled = never (2048kB: inherit)   no mTHP of another order
 *
 * Observation of a model page (its first 4 KiB page, exec.h):
 *   .  not mapped, or not faulted in      s  swapped out
 *   p  a small page                       t  a page of a large folio, mapped by a PTE
 *   z  the shared zero page (PTE)         H  PMD-mapped THP         Z  huge zero page
 * from /proc/self/pagemap (present, swap, PFN), /proc/kpageflags (KPF_ZERO_PAGE,
 * KPF_THP) and PAGEMAP_SCAN's PAGE_IS_HUGE (set for PMD leaves only).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "exec.h"

#define THP "/sys/kernel/mm/transparent_hugepage/"
#define DAY_MS "86400000"

unsigned long unit = PAGE;
int thp_mode;

struct knob {
  char path[128];
  char saved[64];
  int set;
};

static struct knob knobs[32];
static int nknobs;
static int kpf_fd = -1;

/* The knob's value: the bracketed word of a choice ("always [madvise] never"), else the text. */
static int read_knob(const char *path, char *out, size_t n) {
  char buf[256];
  int fd = open(path, O_RDONLY);
  if (fd < 0) return -1;
  ssize_t k = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (k <= 0) return -1;
  buf[k] = 0;
  char *s = strchr(buf, '['), *e = s ? strchr(s, ']') : 0;
  if (s && e) {
    *e = 0;
    s++;
  } else {
    s = buf;
    s[strcspn(s, "\n")] = 0;
  }
  size_t l = strnlen(s, n - 1);
  memcpy(out, s, l);
  out[l] = 0;
  return 0;
}

static int write_knob(const char *path, const char *value) {
  int fd = open(path, O_WRONLY);
  if (fd < 0) return -1;
  ssize_t k = write(fd, value, strlen(value));
  close(fd);
  return k == (ssize_t)strlen(value) ? 0 : -1;
}

/* Save, then set; a knob this kernel does not have is skipped unless `needed`. */
static int set_knob(const char *path, const char *value, int needed) {
  if (nknobs == (int)(sizeof knobs / sizeof knobs[0])) return -1;
  struct knob *k = &knobs[nknobs];
  snprintf(k->path, sizeof k->path, "%s", path);
  if (read_knob(path, k->saved, sizeof k->saved) < 0) return needed ? -1 : 0;
  nknobs++;
  char now[64];
  if (strcmp(k->saved, value) == 0) return 0;
  if (write_knob(path, value) < 0 || read_knob(path, now, sizeof now) < 0 || strcmp(now, value) != 0) return -1;
  k->set = 1;
  return 0;
}

void thp_restore(void) {
  for (int i = nknobs - 1; i >= 0; i--)
    if (knobs[i].set) write_knob(knobs[i].path, knobs[i].saved);
  nknobs = 0;
}

int thp_setup(const char *mode) {
  static const char *sizes[] = { "16", "32", "64", "128", "256", "512", "1024" };
  char path[128];
  thp_mode = 1;
  unit = THP_UNIT;
  int bad = set_knob(THP "enabled", mode, 1) || set_knob(THP "defrag", "always", 1) || set_knob(THP "use_zero_page", "1", 1) ||
            set_knob(THP "shrink_underused", "0", 0) || set_knob(THP "khugepaged/scan_sleep_millisecs", DAY_MS, 1) ||
            set_knob(THP "khugepaged/alloc_sleep_millisecs", DAY_MS, 1) || set_knob(THP "khugepaged/pages_to_scan", "8", 1) ||
            set_knob(THP "khugepaged/max_ptes_none", "0", 1) || set_knob(THP "khugepaged/max_ptes_swap", "0", 1) ||
            set_knob(THP "khugepaged/max_ptes_shared", "0", 1) || set_knob(THP "hugepages-2048kB/enabled", "inherit", 0);
  for (unsigned i = 0; !bad && i < sizeof sizes / sizeof sizes[0]; i++) {
    snprintf(path, sizeof path, THP "hugepages-%skB/enabled", sizes[i]);
    bad = set_knob(path, "never", 0);
  }
  kpf_fd = open("/proc/kpageflags", O_RDONLY);
  if (bad || kpf_fd < 0) {
    thp_restore();
    return -1;
  }
  return 0;
}

static long counter(const char *path) {
  char v[64];
  return read_knob(path, v, sizeof v) < 0 ? -1 : atol(v);
}

/* THP faults that fell back to small pages, and pages khugepaged collapsed: machine-wide counts. */
void thp_counters(long *fallback, long *collapsed) {
  *fallback = counter(THP "hugepages-2048kB/stats/anon_fault_fallback");
  *collapsed = counter(THP "khugepaged/pages_collapsed");
}

/* PAGEMAP_SCAN (Linux 6.7, include/uapi/linux/fs.h): not in every libc's headers. */
struct page_region_ {
  uint64_t start, end, categories;
};
struct pm_scan_arg_ {
  uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages, category_inverted, category_mask, category_anyof_mask, return_mask;
};
#define PAGEMAP_SCAN_ _IOWR('f', 16, struct pm_scan_arg_)
#define PAGE_IS_HUGE_ (1 << 6)
#define KPF_THP 22
#define KPF_ZERO_PAGE 24

/* Which model pages lie in a PMD leaf; -1 if PAGEMAP_SCAN failed. */
static int huge_pages(int fd, char *huge) {
  struct page_region_ vec[OBS_PAGES];
  struct pm_scan_arg_ arg = { sizeof arg, 0, ARENA, ARENA + OBS_PAGES * unit, 0, (uintptr_t)vec, OBS_PAGES, 0, 0, 0, PAGE_IS_HUGE_, PAGE_IS_HUGE_ };
  long n = ioctl(fd, PAGEMAP_SCAN_, &arg);
  if (n < 0) return -1;
  memset(huge, 0, OBS_PAGES);
  for (long i = 0; i < n; i++)
    for (uint64_t a = vec[i].start; a < vec[i].end; a += PAGE)
      if ((a - ARENA) % unit == 0) huge[(a - ARENA) / unit] = 1;
  return 0;
}

void observe(char *out) {
  static const size_t per = THP_UNIT / PAGE;
  size_t len = OBS_PAGES * per * sizeof(uint64_t);
  uint64_t *pm = malloc(len);
  char huge[OBS_PAGES];
  int fd = open("/proc/self/pagemap", O_RDONLY);
  memset(out, '?', OBS_PAGES);
  if (!pm || fd < 0 || pread(fd, pm, len, ARENA / PAGE * sizeof(uint64_t)) != (ssize_t)len || huge_pages(fd, huge) < 0) goto out;
  for (int i = 0; i < OBS_PAGES; i++) {
    uint64_t e = pm[i * per], flags = 0;
    if (!(e >> 63)) {
      out[i] = (e >> 62) & 1 ? 's' : '.';
      continue;
    }
    uint64_t pfn = e & ((1ULL << 55) - 1);
    if (pread(kpf_fd, &flags, sizeof flags, pfn * sizeof flags) != sizeof flags) continue;
    int zero = (flags >> KPF_ZERO_PAGE) & 1, large = (flags >> KPF_THP) & 1;
    out[i] = huge[i] ? (zero ? 'Z' : 'H') : zero ? 'z' : large ? 't' : 'p';
  }
out:
  if (fd >= 0) close(fd);
  free(pm);
}
