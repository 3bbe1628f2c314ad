import type { Op, Program, Prot } from './ops.ts';

const prot = (p: Prot): string => p;

/** One op as people read it: `write r0[2].1=7` (page 2, word 1), `mremap r1 -> 4 pages maymove`. */
export function formatOp(op: Op): string {
  switch (op.op) {
    case 'mmap':
      return `mmap r${op.region} ${op.pages}p ${prot(op.prot)}${op.growsdown ? ' growsdown' : ''}${op.shared ? ' shared' : ''}`;
    case 'munmap':
      return `munmap r${op.region}[${op.page}..+${op.pages}]`;
    case 'mremap':
      return `mremap r${op.region} -> ${op.pages}p${op.maymove ? ' maymove' : ''}${op.fixedTo !== undefined ? ` fixed@r${op.fixedTo}` : ''}${op.dontunmap ? ' dontunmap' : ''}`;
    case 'mprotect':
      return `mprotect r${op.region}[${op.page}..+${op.pages}] ${prot(op.prot)}`;
    case 'madvise':
      return `madvise r${op.region}[${op.page}..+${op.pages}] ${op.advice}`;
    case 'read':
      return `read r${op.region}[${op.page}].${op.word}`;
    case 'write':
      return `write r${op.region}[${op.page}].${op.word}=${op.value}`;
    case 'fork':
      return `fork P${op.child}`;
    case 'exec':
      return `exec r${op.region} (${op.args} arg pages)`;
    case 'exit':
      return 'exit';
    case 'pin':
      return `pin#${op.pin} r${op.region}[${op.page}] ${op.write ? 'R/W' : 'R/O'}${op.fast ? ' fast' : ''}${op.longterm ? ' longterm' : ''}`;
    case 'pinRead':
      return `pinRead #${op.pin}.${op.word}`;
    case 'pinWrite':
      return `pinWrite #${op.pin}.${op.word}=${op.value}`;
    case 'unpin':
      return `unpin #${op.pin}`;
    case 'get':
      return `get&${op.ref} r${op.region}[${op.page}]${op.fast ? ' fast' : ''}`;
    case 'getRead':
      return `getRead &${op.ref}.${op.word}`;
    case 'put':
      return `put &${op.ref}`;
    case 'swapon':
      return `swapon dev${op.dev} (${op.slots} slots${op.sync ? ', synchronous' : ''})`;
    case 'swapoff':
      return `swapoff dev${op.dev}`;
    case 'reclaim':
      return `reclaim victim ${op.victim}`;
    case 'migrate':
      return `migrate victim ${op.victim}`;
    case 'hugetlbCreate':
      return `hugetlb_create f${op.file} ${op.hpages}hp`;
    case 'hugetlbMmap':
      return `mmap r${op.region} = f${op.file}[${op.hpage}..+${op.hpages}]hp ${prot(op.prot)} shared`;
    case 'hugetlbPunch':
      return `punch f${op.file}[${op.hpage}..+${op.hpages}]hp`;
    case 'hugetlbTruncate':
      return `ftruncate f${op.file} ${op.hpages}hp`;
    case 'memfdCreate':
      return `memfd_create m${op.file} ${op.pages}p`;
    case 'memfdMmap':
      return `mmap r${op.region} = m${op.file}[${op.page}..+${op.pages}] ${prot(op.prot)} ${op.shared ? 'shared' : 'private'}`;
    case 'memfdTruncate':
      return `ftruncate m${op.file} ${op.pages}p`;
    case 'memfdPunch':
      return `punch m${op.file}[${op.page}..+${op.pages}]`;
  }
}

/** The whole program, a line per thread: `P0.T1: mmap r0 2p rw; write r0[0]=1`. */
export function formatProgram(p: Program): string {
  const lines: string[] = [];
  p.processes.forEach((proc, pid) => {
    proc.threads.forEach((ops, tid) => {
      lines.push(`P${pid}.T${tid}: ${ops.length ? ops.map(formatOp).join('; ') : '(no ops)'}`);
    });
  });
  (p.kthreads ?? []).forEach((ops, k) => lines.push(`K${k}: ${ops.length ? ops.map(formatOp).join('; ') : '(no ops)'}`));
  if (p.frames !== undefined) lines.push(`frames: ${p.frames}`);
  if (p.faultMode !== undefined) lines.push(`faultMode: ${p.faultMode}`);
  if (p.zeroPage) lines.push('zeroPage: on');
  if (p.khugepaged) lines.push('khugepaged: on');
  return lines.join('\n');
}
