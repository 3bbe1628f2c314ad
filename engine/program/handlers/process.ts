/**
 * Process ops: fork (the child process's threads start when it returns),
 * exec (a new address space for the calling thread, its argument pages
 * holding what user space passed). exit is kthreads.ts's: any thread may run it.
 */
import { do_execve } from '../../fs/exec.ts';
import { dup_mm, mmput } from '../../kernel/fork.ts';
import { EAGAIN, EINVAL, STACK_TOP } from '../../mm/mm_types.ts';
import { execArgv } from '../abi.ts';
import { UserSpace } from '../userspace.ts';
import type { Handler } from './env.ts';

export const fork: Handler<'fork'> = function* (env, op) {
  const { run, space: us } = env;
  const child = op.child;
  if (!run.program.processes[child] || child === us.pid) return { result: -EINVAL };
  if (run.forked.has(child) || child === 0) return { result: -EAGAIN };
  run.forked.add(child);
  const r = yield* dup_mm(us.mm, `P${child}`);
  if (typeof r === 'number') return { result: r };
  if (run.program.processes[child]!.threads.length === 0) {
    yield* mmput(r);
    return { result: child };
  }
  const space = run.startProcess(child, r);
  space.copyRegionsFrom(us);
  return { result: child, newAs: space.id };
};

export const exec: Handler<'exec'> = function* (env, op) {
  const { run, space: us } = env;
  const args = Math.max(1, op.args);
  const argv = execArgv(args);
  const r = yield* do_execve(us.mm, `P${us.pid}`, argv);
  if (typeof r === 'number') return { result: r, argv };
  const space = new UserSpace(run.ctx.spaces.length, r, us.pid);
  run.ctx.spaces.push(space);
  space.regions.set(op.region, { start: STACK_TOP - args, pages: args });
  space.threads = 1;
  run.leave(us);
  env.space = space;
  return { result: 0, addr: STACK_TOP - args, pages: args, newAs: space.id, argv };
};
