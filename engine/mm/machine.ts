/*
 * The kernel's memory globals for one run: physical memory (mem_map and the
 * free lists), init_mm.mmlist, swap_info[], and every live mm_struct (for
 * property checks, the way a debugger would walk the task list). Each run's
 * Kernel (engine/kernel/boot.ts) owns one; machine() finds the running one.
 */
import { this_kernel } from '../kernel/current.ts';
import { Spinlock } from '../locking/spinlock.ts';
import { WaitQueue } from '../sched/waitable.ts';
import { Folio, PG_uptodate, ZERO_PFN, type MmStruct } from './mm_types.ts';
import type { SwapInfo } from './swap.ts';
import { DEFAULT_NR_FRAMES, PhysMem } from './page_alloc.ts';

/** How user faults are handled: current Linux's per-VMA locks, or the speculative-fault RFC. */
export type FaultMode = 'vma-lock' | 'spf';

export interface MachineOptions {
  readonly nr_frames?: number;
  readonly fault_mode?: FaultMode;
  /**
   * Map the shared zero page on read faults of anonymous memory (Linux's
   * default). Off, the machine behaves as under mm_forbids_zeropage() (s390
   * with KVM guests): every first touch allocates a page. Programs recorded
   * before the model had a zero page run with it off.
   */
  readonly zero_page?: boolean;
  /**
   * /sys/kernel/mm/transparent_hugepage/enabled: 'madvise' (the default: only
   * MADV_HUGEPAGE VMAs get a THP at fault time) or 'always' (every anonymous
   * private VMA but MADV_NOHUGEPAGE ones). live/ sets the kernel's to match.
   */
  readonly thp_enabled?: 'madvise' | 'always';
  /**
   * /sys/kernel/mm/transparent_hugepage/use_zero_page (Linux's default 1): a
   * read fault on an empty PMD of a THP VMA maps the huge zero folio. Only
   * where the machine has the zero page at all (not mm_forbids_zeropage()).
   */
  readonly thp_use_zero_page?: boolean;
}

/** A stack expansion as perf_event_mmap() reports it: which task grew which mm's stack over [start, end). */
export interface StackExpansion {
  readonly mm: MmStruct;
  readonly task: string;
  readonly start: number;
  readonly end: number;
  /** The step it happened at. */
  readonly step: number;
}

export class Machine {
  readonly mem: PhysMem;
  /** Every mm_struct not yet freed, in allocation order. */
  readonly mms: MmStruct[] = [];
  /** init_mm.mmlist: mms that may hold swap entries, children right after parents. */
  readonly mmlist: MmStruct[] = [];
  readonly mmlist_lock = new Spinlock('mmlist_lock');
  /** swap_info[]: indexed by swap type; a device stays here (flags 0) after swapoff. */
  readonly swap_info: SwapInfo[] = [];
  readonly swap_lock = new Spinlock('swap_lock');
  readonly fault_mode: FaultMode;
  readonly thp_enabled: 'madvise' | 'always';
  /**
   * ZERO_PAGE(): the shared zero page, when the machine has one. Made at
   * boot only then, so that machines without it number their objects as
   * before. Never freed, never written, not refcounted by its mappings.
   */
  readonly zero_folio: Folio | undefined;
  /** /sys/kernel/mm/transparent_hugepage/use_zero_page */
  readonly thp_use_zero_page: boolean;
  /**
   * huge_zero_folio: made on the first mm_get_huge_zero_folio() (so that
   * machines whose programs never read-fault a THP VMA number their objects
   * as before), then kept for the life of the machine (see huge_memory.ts:
   * the model's is persistent).
   */
  huge_zero_folio: Folio | undefined = undefined;
  /** khugepaged's mm slots (khugepaged_scan.mm_head): mms registered by khugepaged_enter_vma, in order. */
  readonly khugepaged_mm_slots: MmStruct[] = [];
  /** khugepaged_scan.mm_slot: the mm khugepaged is scanning now, if any. */
  khugepaged_scan_mm: MmStruct | undefined = undefined;
  /** khugepaged_wait: khugepaged sleeps here until an mm registers (or the run is over). */
  readonly khugepaged_wait = new WaitQueue('khugepaged_wait');
  /** perf's PERF_RECORD_MMAP stream, stack growth only: how user space learns that a fault grew a stack. */
  readonly stack_expansions: StackExpansion[] = [];

  constructor(options: MachineOptions = {}) {
    this.mem = new PhysMem(options.nr_frames ?? DEFAULT_NR_FRAMES);
    this.fault_mode = options.fault_mode ?? 'vma-lock';
    this.thp_enabled = options.thp_enabled ?? 'madvise';
    this.thp_use_zero_page = options.thp_use_zero_page ?? true;
    if (options.zero_page) {
      this.zero_folio = new Folio(ZERO_PFN, 'zero_page');
      this.zero_folio.flags = PG_uptodate;
    }
  }
}

/** The running Kernel's machine. */
export function machine(): Machine {
  return this_kernel().machine;
}
