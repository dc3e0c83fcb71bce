// Whether this build keeps the pool's fault hooks (internal.ts, faults.ts): replaced by true in
// the unit tests' build of ts/ and by false in the package (scripts/bundle-plugins.mjs).
declare const __POOL_FAULT_HOOKS__: boolean;
