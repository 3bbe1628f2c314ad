/**
 * A ReproPlan as one standalone C file: readable, mailable, built with
 * `cc -O2 -pthread`, run as root with a time limit in seconds. It prints
 * `hits H iterations I` and exits 1 if it saw the symptom.
 */
import type { Prot } from '../../engine/program/ops.ts';
import { C_HELPERS } from './c-helpers.ts';
import type { ProcessPlan, ReproPlan, Step, ThreadPlan } from './plan.ts';

export interface ReproHeader {
  readonly source: string;
  readonly property: string;
  readonly message: string;
  readonly program: string;
}

const PROT: Record<Prot, string> = { rw: 'PROT_READ | PROT_WRITE', r: 'PROT_READ', none: 'PROT_NONE' };

/** Each process's region r lives at its own 1 GiB-aligned slot: 64 GiB apart per process, 8 GiB per region. */
function addr(pid: number, region: number): string {
  return `REGION(${pid}, ${region})`;
}

function step(pid: number, s: Step): string {
  switch (s.kind) {
    case 'map':
      return s.file !== undefined
        ? `map_at(${addr(pid, s.region)}, ${s.length}UL, ${PROT[s.prot]}, hugetlb_fd[${s.file}], ${s.offset}UL);`
        : `map_at(${addr(pid, s.region)}, ${s.length}UL, ${PROT[s.prot]}, -1, 0);`;
    case 'unmap':
      return `munmap((void *)${addr(pid, s.region)}, ${s.length}UL);`;
    case 'protect':
      return `mprotect((void *)${addr(pid, s.region)}, ${s.length}UL, ${PROT[s.prot]});${s.restore ? ' /* set back: re-create the window */' : ''}`;
    case 'read':
      return `try_read(${addr(pid, s.region)} + ${s.offset}UL);`;
    case 'write':
      return s.mustFault
        ? `if (try_write(${addr(pid, s.region)} + ${s.offset}UL, ${s.value}) == 0) symptom("write through a mapping that is not writable succeeded");`
        : `try_write(${addr(pid, s.region)} + ${s.offset}UL, ${s.value});`;
    case 'punch':
      return `fallocate(hugetlb_fd[${s.file}], FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, ${s.offset}UL, ${s.length}UL);`;
    case 'fork-check':
      return `fork_check(${pid}, (const long[][3])${JSON.stringify(s.words.map((w) => [w.region, w.offset, w.value])).replace(/\[/g, '{').replace(/\]/g, '}')}, ${s.words.length});`;
  }
}

function thread(pid: number, t: ThreadPlan): string[] {
  return [`static void *${t.name}(void *arg) {`, '  (void)arg;', '  install_fault_handler();', '  while (!shared->stop) {', ...t.body.map((s) => `    ${step(pid, s)}`), '    __atomic_fetch_add(&shared->iterations, 1, __ATOMIC_RELAXED);', '  }', '  return 0;', '}', ''];
}

function process(pid: number, p: ProcessPlan): string[] {
  return [
    `static void ${p.name}(void) {`,
    ...p.prelude.map((s) => `  ${step(pid, s)}`),
    `  pthread_t th[${Math.max(1, p.threads.length)}];`,
    ...p.threads.map((t, i) => `  pthread_create(&th[${i}], 0, ${t.name}, 0);`),
    ...p.threads.map((_, i) => `  pthread_join(th[${i}], 0);`),
    '}',
    '',
  ];
}

export function emitC(plan: ReproPlan, h: ReproHeader): string {
  const procs = plan.processes.map((p, i) => ({ p, pid: Number(p.name.slice(1)), i }));
  const comment = (s: string) => s.replace(/\*\//g, '* /');
  return [
    '/*',
    ` * mmfuzz kernel repro of ${h.source}`,
    ` * property: ${h.property}: ${comment(h.message)}`,
    ' *',
    ' * The entry, as mmfuzz ran it on its model:',
    ...h.program.split('\n').map((l) => ` *   ${comment(l)}`),
    ' *',
    ' * Here every process of the entry runs from the start and every thread loops',
    ' * over its ops, so that the racing window keeps being re-created. A model huge',
    ' * page is 1 GiB here (PUD_SIZE: the range one shared PMD page covers).',
    ...(plan.leftOut.length ? [' * Left out (they do not bear on the symptom):', ...plan.leftOut.map((l) => ` *   ${comment(l)}`)] : []),
    ' *',
    ' * Build: cc -O2 -pthread -o repro repro.c     Run as root: ./repro [seconds [--until-hit]]',
    ` * It sets /proc/sys/vm/nr_hugepages to ${plan.hugepages} and restores it.`,
    ' */',
    '#define _GNU_SOURCE',
    ...['fcntl.h', 'linux/falloc.h', 'pthread.h', 'setjmp.h', 'signal.h', 'stdio.h', 'stdlib.h', 'string.h', 'sys/file.h', 'sys/mman.h', 'sys/wait.h', 'unistd.h'].map((f) => `#include <${f}>`),
    '',
    `#define NPROC ${plan.processes.length}`,
    `#define NFILES ${Math.max(1, plan.files.length)}`,
    '#define REGION(pid, r) (0x100000000000UL + (unsigned long)(pid) * (64UL << 30) + (unsigned long)(r) * (8UL << 30))',
    '',
    ...C_HELPERS,
    ...procs.flatMap(({ p, pid }) => [...p.threads.flatMap((t) => thread(pid, t)), ...process(pid, p)]),
    'static long nr_hugepages(long set) {',
    '  long old = -1;',
    '  FILE *f = fopen("/proc/sys/vm/nr_hugepages", "r");',
    '  if (f) { if (fscanf(f, "%ld", &old) != 1) old = -1; fclose(f); }',
    '  if (set >= 0 && (f = fopen("/proc/sys/vm/nr_hugepages", "w"))) { fprintf(f, "%ld\\n", set); fclose(f); }',
    '  return old;',
    '}',
    '',
    'static long saved_hugepages = -1;',
    'static pid_t children[NPROC];',
    '',
    'static void finish(int sig) {',
    '  (void)sig;',
    '  shared->stop = 1;',
    '}',
    '',
    'int main(int argc, char **argv) {',
    '  int seconds = argc > 1 ? atoi(argv[1]) : 60;',
    '  int until_hit = argc > 2 && strcmp(argv[2], "--until-hit") == 0;',
    '  shared = mmap(0, sizeof(*shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);',
    '  /* mmfuzz runs on the kernel one at a time: they all set nr_hugepages. */',
    '  flock(open("/var/tmp/mmfuzz-kernel.lock", O_CREAT | O_RDWR, 0600), LOCK_EX);',
    ...(plan.hugepages > 0
      ? [
          `  saved_hugepages = nr_hugepages(${plan.hugepages});`,
          `  if (nr_hugepages(-1) < ${plan.hugepages}) { fprintf(stderr, "could not set nr_hugepages to ${plan.hugepages} (root? memory?)\\n"); nr_hugepages(saved_hugepages); return 2; }`,
        ]
      : []),
    ...plan.files.map((size, f) => `  hugetlb_fd[${f}] = memfd_create("mmfuzz-repro", MFD_HUGETLB); if (ftruncate(hugetlb_fd[${f}], ${size}UL)) perror("ftruncate");`),
    '  signal(SIGINT, finish);',
    '  signal(SIGTERM, finish);',
    '  for (int i = 0; i < NPROC; i++) {',
    '    children[i] = fork();',
    '    if (children[i] == 0) {',
    '      switch (i) {',
    ...procs.map(({ p, i }) => `      case ${i}: ${p.name}(); break;`),
    '      }',
    '      _exit(0);',
    '    }',
    '  }',
    '  for (int s = 0; s < seconds * 100 && !shared->stop && !(until_hit && shared->hits); s++) usleep(10000);',
    '  shared->stop = 1;',
    '  for (int i = 0; i < NPROC; i++) waitpid(children[i], 0, 0);',
    '  for (int f = 0; f < NFILES; f++) close(hugetlb_fd[f]);',
    '  if (saved_hugepages >= 0) nr_hugepages(saved_hugepages);',
    '  printf("hits %ld iterations %ld%s%s\\n", shared->hits, shared->iterations, shared->hits ? ": " : "", shared->first);',
    '  return shared->hits > 0;',
    '}',
    '',
  ].join('\n');
}
