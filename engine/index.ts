// The engine's barrel: deterministic execution, locks, lockdep, RCU, KASAN.
// engine/ never imports fast-check.
export { Execution, DEFAULT_MAX_STEPS, type ExecutionOptions, type ExecutionResult } from './sched/execution.ts';
export { findWaitCycle } from './sched/deadlock.ts';
export { current, this_kernel, currentStep, report, BUG_ON, WARN_ON } from './kernel/current.ts';
export { Kernel, type KernelOptions } from './kernel/boot.ts';
export { cond_resched, schedule_timeout_uninterruptible } from './sched/cond_resched.ts';
export { Task, type KGen, type Yielded } from './sched/task.ts';
export { Waitable, WaitQueue } from './sched/waitable.ts';
export { Trace, type TraceEntry } from './sched/trace.ts';
export { ViolationError, isViolationError, type Violation } from './sched/violation.ts';
export { defaultChoice, type Strategy } from './sched/strategy.ts';
export { RandomWalk } from './sched/random-walk.ts';
export { Pct, type PctOptions } from './sched/pct.ts';
export { Replay } from './sched/replay.ts';
export { ParkAt } from './sched/park-at.ts';
export { PreemptionBounded, type PreemptionBoundedOptions } from './sched/preemption-bounded.ts';
export { SyncClock, SyncKindError, SYNC_KINDS, SYNC_RELEASE, SYNC_ACQUIRE, SYNC_LOCK, type SyncKind } from './sched/sync.ts';
export { Prng } from './sched/prng.ts';
export { encodeSchedule, decodeSchedule, ScheduleFormatError, type Schedule, type Switch } from './sched/schedule.ts';
export { LockClass, SINGLE_DEPTH_NESTING } from './locking/lock-class.ts';
export { Spinlock, spin_lock, spin_lock_nested, spin_trylock, spin_unlock } from './locking/spinlock.ts';
export { Mutex, mutex_lock, mutex_trylock, mutex_unlock } from './locking/mutex.ts';
export { RwSemaphore, down_read, down_read_trylock, down_write, down_write_trylock, up_read, up_write, downgrade_write } from './locking/rwsem.ts';
export { Seqcount, write_seqcount_begin, write_seqcount_end, read_seqcount_begin, raw_read_seqcount, read_seqcount_retry } from './locking/seqcount.ts';
export { BitLock, bit_lock, bit_trylock, bit_unlock, bit_wait } from './locking/bitlock.ts';
export { rcu_read_lock, rcu_read_unlock, synchronize_rcu, call_rcu } from './locking/rcu.ts';
export { KObject, kfree, kobject_freed } from './mm/kasan.ts';
