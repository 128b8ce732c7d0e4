/**
 * The agent ↔ coordinator protocol: JSON over HTTP on loopback, agent → coordinator only.
 *
 * POST /agents/<i>/hello   { runId, pid, segment }                  → { ok }
 * POST /agents/<i>/clock   {}                                        → { t1, t2 } (coordinator epoch ms)
 * POST /agents/<i>/ready   AgentReady                                → { ok }
 * GET  /agents/<i>/start                                             → { runStartEpochMs } | { wait: true } | { stop: true }
 * POST /agents/<i>/batch   gzip of compact rows; headers x-batch (n), x-up-to (ms), x-status (JSON AgentStatus)
 *                                                                    → { acked, stop }
 * POST /agents/<i>/done    { result: FleetResult, lastBatch }        → { ok } | 409 { acked } (send the rest first)
 */
import type { FleetResult, LoadGeneratorHealth } from '../bots/fleet/fleet';

export interface AgentHello {
  runId: string;
  pid: number;
  segment: string;
}

export interface AgentReady {
  clockOffsetMs: number;
  clockErrorMs: number;
  clockRttMs: number;
  /** The agent's clock base (core/clock.ts clockBase: its epoch clock minus the machine's monotonic clock); two processes' bases differ by their exact clock offset. */
  monotonicBaseMs?: number;
  /** The kernel's boot id (/proc/sys/kernel/random/boot_id): equal ids share one monotonic clock, so the bases give the exact offset. */
  bootId?: string;
  bots: number;
  dropped: number;
  loadEndMs: number;
  metricsUrl: string;
}

/** Sent with every batch: the batches are the heartbeat. */
export interface AgentStatus {
  online: number;
  actionsPerSecond: number;
  errors: number;
  loadGenerator: LoadGeneratorHealth;
}

export interface AgentDone {
  result: FleetResult;
  lastBatch: number;
}

export interface BatchReply {
  acked: number;
  /** The coordinator wants the bots stopped (the run was aborted). */
  stop: boolean;
}

export type StartReply = { runStartEpochMs: number } | { wait: true } | { stop: true };

/** Agent i's segment of an even split in n: i/n:(i+1)/n of 0,1/n,...,1. */
export function evenSegment(index: number, count: number): { segment: string; sequence: string } {
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  const point = (k: number): string => (k === 0 ? '0' : k === count ? '1' : `${k / gcd(k, count)}/${count / gcd(k, count)}`);
  return { segment: `${point(index)}:${point(index + 1)}`, sequence: Array.from({ length: count + 1 }, (_, k) => point(k)).join(',') };
}
