export { programArb, numberWrites } from './program.ts';
export { scheduleArb, makeStrategy, SCHEDULE_KINDS, type ParkPoint, type ScheduleSpec, type ScheduleArbOptions, type ScheduleKind } from './schedule.ts';
export { resolveProgramOptions, DEFAULT_PROGRAM_OPTIONS, type ProgramArbOptions } from './options.ts';
export { OP_WEIGHTS } from './ops.ts';
export { GeneratorOptionsError } from './errors.ts';
