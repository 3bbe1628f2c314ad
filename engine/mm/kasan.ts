/*
 * KASAN for the model (mm/kasan/). Every modelled object (mm, VMA, anon_vma,
 * page-table page, folio, swap device) extends KObject. kfree() poisons it:
 * its fields are deleted and its prototype becomes a Proxy that reports a
 * use-after-free naming the allocation and free sites, so any read or write
 * of a freed object (a missing own field goes to the prototype for both) is
 * caught without a check at every access, and live objects pay nothing.
 */
import { kernelStack } from '../locking/kernel-stack.ts';
import { report, this_kernel } from '../kernel/current.ts';
import type { Execution } from '../sched/execution.ts';

export interface KasanSite {
  readonly task: string;
  readonly step: number;
  readonly label: string;
  readonly stack: string | undefined;
}

export class KasanMeta {
  freed: KasanSite | undefined;
  // The allocation site, kept flat: every object has one, few are ever printed.
  private readonly allocTask: string;
  private readonly allocStep: number;
  private readonly allocLabel: string;
  private readonly allocStack: string | undefined;

  constructor(
    readonly kind: string,
    readonly id: number,
    ex: Execution,
  ) {
    const t = ex.currentTask;
    this.allocTask = t?.name ?? 'boot';
    this.allocStep = ex.step;
    this.allocLabel = t?.label ?? '';
    this.allocStack = ex.debug ? kernelStack() : undefined;
  }

  get alloc(): KasanSite {
    return { task: this.allocTask, step: this.allocStep, label: this.allocLabel, stack: this.allocStack };
  }
}

/**
 * KASAN's state for one run (the Kernel owns it): object ids, so that the
 * same run names the same objects, and the count of live objects per kind,
 * for the leak checks at the end.
 */
export class Kasan {
  nextObjectId = 1;
  readonly live = new Map<string, number>();

  constructor(readonly sched: Execution) {}

  site(): KasanSite {
    const ex = this.sched;
    const t = ex.currentTask;
    return {
      task: t?.name ?? 'boot',
      step: ex.step,
      label: t?.label ?? '',
      stack: ex.debug ? kernelStack() : undefined,
    };
  }
}

function site(): KasanSite {
  return this_kernel().kasan.site();
}

export function formatSite(s: KasanSite): string {
  return `${s.task} step ${s.step}${s.stack ? ` in ${s.stack}` : s.label ? ` at "${s.label}"` : ''}`;
}

export abstract class KObject {
  /** KASAN metadata: never poisoned. */
  readonly kasan: KasanMeta;

  constructor(kind: string) {
    const k = this_kernel().kasan;
    this.kasan = new KasanMeta(kind, k.nextObjectId++, k.sched);
    k.live.set(kind, (k.live.get(kind) ?? 0) + 1);
  }

  /** `vma#3`: how objects are named in messages. */
  get kname(): string {
    return `${this.kasan.kind}#${this.kasan.id}`;
  }
}

export function kobject_freed(obj: KObject): boolean {
  return obj.kasan.freed !== undefined;
}

/** Free (and poison) a modelled object. A second free is a double-free. */
export function kfree(obj: KObject): void {
  const meta = obj.kasan;
  if (meta.freed) {
    report('memory-safety', `double-free of ${meta.kind}#${meta.id}: allocated at ${formatSite(meta.alloc)}, first freed at ${formatSite(meta.freed)}, freed again at ${formatSite(site())}`);
  }
  const k = this_kernel().kasan;
  meta.freed = k.site();
  k.live.set(meta.kind, (k.live.get(meta.kind) ?? 1) - 1);
  // Deleted newest first: V8 then rolls the object's shape back along its
  // transition chain instead of turning it into a dictionary (kfree is on
  // every munmap, exit and folio put).
  const fields = obj as unknown as Record<string, unknown>;
  const keys = Object.keys(obj);
  for (let i = keys.length - 1; i >= 0; i--) if (keys[i] !== 'kasan') delete fields[keys[i]!];
  Object.setPrototypeOf(obj, POISON);
}

/**
 * The prototype of every freed object: any property lookup that reaches it
 * is a use-after-free. `kasan`, the one own field left, names the object.
 */
const POISON: object = new Proxy(Object.create(null) as object, {
  get: (_t, key, freed: KObject) => (typeof key === 'symbol' ? undefined : useAfterFree(freed.kasan, key, 'read')),
  set: (_t, key, _v, freed: KObject) => useAfterFree(freed.kasan, String(key), 'write'),
  has: () => false,
});

function useAfterFree(meta: KasanMeta, field: string, access: 'read' | 'write'): never {
  report(
    'memory-safety',
    `use-after-free: ${access} of ${meta.kind}#${meta.id}.${field} at ${formatSite(site())}; allocated at ${formatSite(meta.alloc)}, freed at ${formatSite(meta.freed!)}`,
  );
}
