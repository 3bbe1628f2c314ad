import { isViolationError, ViolationError } from '../engine/sched/violation.ts';

/** What still pointing at a freed object of each kind means, in the kernel's words. */
const DANGLING: Record<string, string> = {
  pte_table: 'a PMD entry still points to a freed PTE table',
  folio: 'a page-table entry, the swap cache or a pin still names a freed folio',
  vma: "an mm's VMA tree still holds a freed VMA",
  mm: 'the mmlist or a task still holds a freed mm_struct',
  anon_vma: "a VMA's or a folio's anon_vma pointer names a freed anon_vma",
  anon_vma_chain: "an anon_vma's interval tree or a VMA's chain still links a freed anon_vma_chain",
  swap_info: 'a swap entry names a freed swap device',
  swap_map: "a swap device's swap_map was freed while still in use",
  hugetlb_vma_lock: "a hugetlb VMA's vm_private_data names a freed hugetlb vma_lock",
};

const UAF = /^use-after-free: (?:read|write) of (\w+)#(\d+)\.(\S+) at .*?; (allocated at .*)$/;

/**
 * A property's own walk (its afterStep, afterOp or atEnd) that reads a freed
 * object has found a dangling pointer: that is the property's finding, not a
 * use-after-free by the task that happened to run last. KASAN's report (which
 * names that task) becomes the property's violation in kernel terms, with the
 * allocation and free sites. Anything else is passed through.
 */
export function freedRead(property: string, e: unknown): unknown {
  if (!isViolationError(e) || e.violation.property !== 'memory-safety') return e;
  const m = UAF.exec(e.violation.message);
  if (!m) return e;
  const [, kind, id, field, sites] = m;
  const what = DANGLING[kind!] ?? `something still points to a freed ${kind}`;
  const step = e.violation.step;
  return new ViolationError({ ...e.violation, property, message: `${what}: ${kind}#${id} (its .${field}), found by the ${property} walk after step ${step}; ${sites}` });
}
