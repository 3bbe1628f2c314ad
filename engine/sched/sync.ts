/**
 * Synchronization events, as the scheduler counts them: the points where a
 * race window opens or closes. The locks (engine/locking) note each one on
 * the running Execution (`noteSync`); the scheduler knows no lock type.
 *
 * - `release`: a lock was just dropped or downgraded (spin_unlock, up_read,
 *   mmap_write_downgrade, folio_unlock, an outermost rcu_read_unlock,
 *   write_seqcount_end): the window a lock opens, e.g. munmap between its
 *   downgrade and its zap.
 * - `acquire`: a lock was just taken (or a seqcount sampled): the window
 *   inside a critical section that a lockless reader (GUP-fast, an RCU walk)
 *   can still see, e.g. fork between its pin check and its write-protect.
 * - `lock`: a task is about to take a lock: the window a lock closes, e.g. a
 *   VMA found under RCU before vma_start_read() validates it.
 *
 * The step after which such an event happened is the preemption point: a
 * strategy that places its points at the n-th event (of the kinds it counts)
 * instead of the n-th step has far fewer points to choose from, so a one-step
 * window after a release is hit far more often (CHESS: Musuvathi, Qadeer et
 * al., OSDI 2008, preempts only at synchronization operations; PCT's k counts
 * them too, Burckhardt et al., ASPLOS 2010).
 */
export type SyncKind = 'release' | 'acquire' | 'lock';

export const SYNC_KINDS: readonly SyncKind[] = ['release', 'acquire', 'lock'];

/** Indices into Execution.syncs: a counter per kind. */
export const SYNC_RELEASE = 0;
export const SYNC_ACQUIRE = 1;
export const SYNC_LOCK = 2;

export class SyncKindError extends Error {
  constructor(what: unknown) {
    super(`unknown synchronization event kind ${JSON.stringify(what)}; use ${SYNC_KINDS.join(', ')}`);
    this.name = 'SyncKindError';
  }
}

/**
 * The clock a strategy's points are placed on: steps, or the events of the
 * kinds `at` names (their counters summed).
 */
export class SyncClock {
  private readonly counters: readonly number[];

  constructor(readonly at: readonly SyncKind[] | undefined) {
    const kinds = at ?? [];
    for (const k of kinds) if (!SYNC_KINDS.includes(k)) throw new SyncKindError(k);
    this.counters = SYNC_KINDS.flatMap((k, i) => (kinds.includes(k) ? [i] : []));
  }

  /** True when the clock counts steps (no kinds named). */
  get steps(): boolean {
    return this.counters.length === 0;
  }

  /** Now, on this clock: the step number, or how many events of our kinds have happened. */
  now(step: number, syncs: readonly number[]): number {
    const c = this.counters;
    if (c.length === 0) return step;
    let n = 0;
    for (let i = 0; i < c.length; i++) n += syncs[c[i]!]!;
    return n;
  }

  /** For describe(): `,at=release+lock`, or nothing on the step clock. */
  suffix(): string {
    return this.steps ? '' : `,at=${SYNC_KINDS.filter((_, i) => this.counters.includes(i)).join('+')}`;
  }
}
