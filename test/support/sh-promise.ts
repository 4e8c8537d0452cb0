// Shared with the fleet benchmark (tools/bench/fleet.ts).
export * from '../../tools/fixtures/sh-promise';
