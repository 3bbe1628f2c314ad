/*
 * mmfuzz's kernel executor: runs a sequential program of mmfuzz's language
 * (engine/program/ops.ts) on the live kernel. The controller reads the
 * program from stdin (live/encode.ts writes it), forks process 0, sends each
 * op, in the given global order, to the pthread that plays its program
 * thread, and prints one record per op:  R <seq> <result> <value|-> <page|->
 */
#ifndef MMFUZZ_EXEC_H
#define MMFUZZ_EXEC_H
#include <stdint.h>
#include <sys/types.h>

#define MAX_PROCS 8
#define MAX_THREADS 4
#define MAX_REGIONS 16
#define MAX_PINS 8
#define MAX_FILES 8
#define MAX_DEVS 4
#define PAGE 4096UL
#define HPAGE (2UL << 20)
/*
 * Where the model's address space lies in the kernel's: model page a is at
 * ARENA + a * PAGE, and a hugetlb mapping at model page a (a multiple of the
 * model's 16-page huge page) at HUGE_ARENA + a / 16 * HPAGE. Mappings go
 * where the model put them (MAP_FIXED_NOREPLACE), far from the executor's
 * own stacks and libraries.
 */
#define ARENA 0x200000000000UL
#define HUGE_ARENA 0x300000000000UL
#define MODEL_HPAGE 16
/*
 * THP mode (input line `thp always|madvise`, live/c/thp.c): one model page
 * is THP_UNIT bytes, so that the model's 16-page THP (HPAGE_PMD_NR) is the
 * kernel's 2 MiB one and a model-aligned THP is a real PMD-mapped THP: model
 * page a is at ARENA + a * THP_UNIT (ARENA is 2 MiB aligned), word w of it at
 * + w * 8, in the first 4 KiB page of its chunk (the page observed). A
 * munmap, mprotect, madvise or mremap of model pages covers their whole
 * chunks, so it splits a real THP where the model splits its own. Outside
 * THP mode a model page is one 4 KiB page (`unit` is PAGE).
 */
#define THP_UNIT (HPAGE / MODEL_HPAGE)
#define OBS_PAGES 256 /* the model's TASK_SIZE, in model pages */
extern unsigned long unit;
extern int thp_mode;

enum kind {
  K_MMAP, K_MUNMAP, K_MREMAP, K_MPROTECT, K_MADVISE, K_READ, K_WRITE, K_FORK, K_EXIT,
  K_PIN, K_PINREAD, K_PINWRITE, K_UNPIN, K_SWAPON, K_SWAPOFF,
  K_HCREATE, K_HMMAP, K_HPUNCH, K_HTRUNCATE,
  K_GET, K_GETREAD, K_PUT, K_MCREATE, K_MMMAP, K_MTRUNCATE, K_MPUNCH, K_NKINDS
};

/* One op as sent to a thread: the kind and up to six integer arguments (see encode.ts). */
struct cmd {
  int32_t kind;
  int32_t exists; /* hugetlbCreate: the file exists already (the controller keeps the names) */
  int64_t a[6];
};

struct reply {
  int64_t result;
  int64_t value;
  int64_t page; /* the address the op resolved to, in 4 KiB pages; -1 if none */
  int32_t has_value;
  int32_t child_pid;
  /* THP mode: the state of every model page of the process after the op (thp.c: observe). */
  char obs[OBS_PAGES];
};

struct region {
  int used;
  uintptr_t start;
  long pages; /* in the region's unit */
  unsigned long unit; /* PAGE or HPAGE */
};

struct pin {
  int used;
  int ring;
  uintptr_t addr;
};

/* The per-process state (each process has its own copy; fork copies it). */
extern struct region regions[MAX_REGIONS];
extern struct pin pins[MAX_PINS];
extern int hugetlb_fd[MAX_FILES]; /* memfd MFD_HUGETLB, made by the controller before any fork */
extern int scratch_fd;            /* the pins' device: a memfd that DMA reads and writes go through */
extern int cmd_fd[MAX_PROCS][MAX_THREADS][2];
extern int reply_fd[MAX_PROCS][MAX_THREADS][2];
extern int nthreads[MAX_PROCS];

void start_process(int pid);
void run_op(const struct cmd *c, struct reply *r, int pid);
long access_word(uintptr_t addr, int write, int64_t value, int64_t *out);
void access_init(void);

int pin_page(uintptr_t addr); /* io_uring fixed buffer: FOLL_WRITE | FOLL_LONGTERM; ring fd or -errno */
long pin_dma(int ring, uintptr_t addr, int write, int64_t *value);
int unpin_page(int ring);
void pins_forget(void);

int swap_on(int dev, long slots);
int swap_off(int dev);
void swap_cleanup(void);

int lock_machine(void);
long read_hugepages(void);
int write_hugepages(long n);

extern pid_t pids[MAX_PROCS]; /* program processes by model pid, once started (ends.c) */
int end_thread(int p, int t); /* 0, or -1 if the process did not exit in 10 s */
int thread_ended(int p, int t);

int thp_setup(const char *mode); /* 0, or -1 (the knobs are restored) */
void thp_restore(void);
void thp_counters(long *fallback, long *collapsed);
void observe(char *out);

/* For the op families in files of their own (ops.c exports its region helpers to them). */
struct region *op_region(int64_t h);
int64_t op_model_page(uintptr_t addr);
void op_map(struct reply *r, int64_t h, int64_t place, long pages, int64_t prot, int flags, int fd, long off);

void ref_op(const struct cmd *c, struct reply *r); /* vmsplice.c: get, getRead, put */
void refs_forget(void);

int memfd_setup(void); /* memfd.c: the controller's files, made before any fork */
void memfd_cleanup(void);
void memfd_claim(struct cmd *c);
void memfd_claimed(const struct cmd *c, const struct reply *r);
void memfd_op(const struct cmd *c, struct reply *r);
#endif
