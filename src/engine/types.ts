// Shared engine types (kept apart so effects/record/plan do not import each other in a circle).
export type { StableInfo } from './record';
export type { Track } from './plan';
