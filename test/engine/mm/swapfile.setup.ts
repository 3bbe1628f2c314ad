// Swap: slot allocation and counting, the swap cache, readahead, swapoff
// (mm/swapfile.c, mm/swap_state.c). Sequential scenarios check swap_map,
// SWAP_HAS_CACHE, the swap cache and the PTEs a path leaves; the races
// (swapoff against zap, reclaim and faults; two readers of one slot) are
// driven by switching tasks at named preemption points.
// The setup shared by the test/engine/mm/swapfile.*.spec.ts files.
import assert from 'node:assert/strict';
import { defaultChoice, type KGen, type Strategy } from '../../../engine/index.ts';
import { machine } from '../../../engine/mm/machine.ts';
import { Kernel } from '../../../engine/kernel/boot.ts';
import { do_madvise } from '../../../engine/mm/madvise.ts';
import { type Folio, type MmStruct, type PteSwap } from '../../../engine/mm/mm_types.ts';
import { SWAP_HAS_CACHE, type SwapInfo } from '../../../engine/mm/swap.ts';
import { sys_swapon } from '../../../engine/mm/swapfile.ts';
import { type KernelRun, RW, mapped, pteAt, run, store } from '../harness.ts';

export const ENOMEM = -12;
export const EFAULT = -14;
export const PROT_NONE = 0;

export function* swapon(pages: number): KGen<SwapInfo> {
  const t = yield* sys_swapon(pages);
  assert.ok(t >= 0, `swapon: ${t}`);
  return machine().swap_info[t]!;
}

export function* pageout(mm: MmStruct, addr: number, pages = 1): KGen {
  assert.equal(yield* do_madvise(mm, addr, pages, 'PAGEOUT'), 0);
}

/** Write `value` to the page at addr and swap it out; its swap PTE. */
export function* swapPageAt(mm: MmStruct, addr: number, value: number): KGen<PteSwap> {
  assert.equal(yield* store(mm, addr, value), 0);
  yield* pageout(mm, addr);
  return swapPte(mm, addr);
}

export function swapPte(mm: MmStruct, addr: number): PteSwap {
  const pte = pteAt(mm, addr);
  assert.equal(pte?.kind, 'swap', `no swap entry at ${addr}: ${pte?.kind}`);
  return pte as PteSwap;
}

/**
 * A swapped-out page (value 5), the first of a fresh `pages`-page mapping
 * on a fresh device; `cached`: read back into the swap cache by WILLNEED.
 */
export function* swappedPage(cached: boolean, pages = 2): KGen<Ctx> {
  const si = yield* swapon(4);
  const { mm, addr } = yield* mapped(pages);
  yield* store(mm, addr, 5);
  yield* pageout(mm, addr);
  const e = swapPte(mm, addr);
  if (cached) assert.equal(yield* do_madvise(mm, addr, 1, 'WILLNEED'), 0);
  return { si, mm, addr, e, folio: si.cache.get(e.offset) };
}
export interface Ctx {
  si: SwapInfo;
  mm: MmStruct;
  addr: number;
  e: PteSwap;
  folio: Folio | undefined;
}

/** Use up every free frame with pages of a new mapping; returns it. */
export function* fillMemory(): KGen<{ mm: MmStruct; addr: number; pages: number }> {
  const { mm, addr } = yield* mapped(32, RW, 'filler');
  let pages = 0;
  while ((yield* store(mm, addr + pages, 100 + pages)) === 0) pages++;
  assert.equal(machine().mem.nr_free(), 0);
  return { mm, addr, pages };
}

/** Task `from`, parked at the preemption point `at` (its `nth` time there), hands the CPU to task `to`. */
export interface Switch {
  readonly from: string;
  readonly at: string | ((label: string) => boolean);
  readonly nth?: number;
  readonly to: string;
  /** A switch only a broken model gets to (the window it would use). */
  readonly optional?: boolean;
}

/**
 * Run tasks (by name, in order) as the default scheduler does (each until it
 * blocks or ends), except at the given switches; `to` then runs until it
 * blocks or ends. No violation may occur, and every switch that is not
 * optional must happen: a race test that did not race proves nothing.
 */
export function race(tasks: Record<string, () => KGen<unknown>>, switches: Switch[], o: { frames?: number; maxSteps?: number } = {}): KernelRun {
  {
    const seen = switches.map(() => 0);
    const fired = switches.map(() => false);
    const ranAt = new Map<number, number>();
    let k: Kernel | undefined;
    const strategy: Strategy = {
      nextTask(runnable, current, _step, sleeping) {
        const t = current >= 0 ? k!.sched.tasks[current]! : undefined;
        if (t && t.state === 'runnable' && ranAt.get(current) !== t.steps) {
          ranAt.set(current, t.steps);
          for (let i = 0; i < switches.length; i++) {
            const s = switches[i]!;
            if (fired[i] || s.from !== t.name) continue;
            if (typeof s.at === 'string' ? t.label !== s.at : !s.at(t.label)) continue;
            if (++seen[i]! < (s.nth ?? 1)) continue;
            fired[i] = true;
            const to = k!.sched.tasks.find((u) => u.name === s.to)!;
            assert.ok(runnable.includes(to.id), `${s.to} cannot run when ${s.from} is at ${t.label}`);
            return to.id;
          }
        }
        return defaultChoice(runnable, current, sleeping);
      },
      describe: () => 'at-label',
    };
    k = new Kernel({ strategy, maxSteps: o.maxSteps ?? 5000, machine: { nr_frames: o.frames ?? 16 } });
    for (const [name, body] of Object.entries(tasks)) k.spawn(name, body);
    const r = k.run();
    assert.equal(r.violation, undefined, r.violation && `${r.violation.property}: ${r.violation.message}`);
    switches.forEach((s, i) => assert.ok(fired[i] || s.optional, `${s.from} never reached ${s.at}`));
    return { violation: r.violation, machine: k.machine, steps: r.steps, warnings: r.warnings };
  }
}

export const EINVAL = -22;
export const EBUSY = -16;

export function* swaponType(pages: number): KGen<number> {
  const t = yield* sys_swapon(pages);
  assert.ok(t >= 0, `swapon: ${t}`);
  return t;
}
