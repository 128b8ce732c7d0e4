/**
 * An agent's clock offset to the coordinator, NTP-style over HTTP: the agent stamps t0 (send) and
 * t3 (receive) on its own clock, the coordinator t1 (receive) and t2 (reply) on its clock. The
 * sample with the smallest round trip bounds the error best: the true offset lies within
 * offset ± rtt/2 whatever the asymmetry of the two legs.
 */
import fs from 'node:fs';

/** One exchange, every stamp in epoch ms of the clock that took it. */
export interface ClockSample {
  /** Agent: request sent. */
  t0: number;
  /** Coordinator: request received. */
  t1: number;
  /** Coordinator: reply sent. */
  t2: number;
  /** Agent: reply received. */
  t3: number;
}

export interface ClockOffset {
  /** coordinator clock − agent clock (ms): an agent time plus this is the coordinator's time. */
  offsetMs: number;
  /** The true offset lies within offsetMs ± errorMs (half the best round trip). */
  errorMs: number;
  /** Round trip of the sample kept (ms), the coordinator's processing time excluded. */
  rttMs: number;
  samples: number;
}

/** The estimate from the lowest-round-trip sample. */
export function estimateOffset(samples: readonly ClockSample[]): ClockOffset {
  if (samples.length === 0) throw new Error('no clock samples: the coordinator never answered a clock request');
  let best: { sample: ClockSample; rtt: number } | undefined;
  for (const sample of samples) {
    const rtt = Math.max(0, sample.t3 - sample.t0 - (sample.t2 - sample.t1));
    if (!best || rtt < best.rtt) best = { sample, rtt };
  }
  const { sample, rtt } = best!;
  const offsetMs = (sample.t1 - sample.t0 + (sample.t2 - sample.t3)) / 2;
  return { offsetMs: round3(offsetMs), errorMs: round3(rtt / 2), rttMs: round3(rtt), samples: samples.length };
}

/** Takes `count` samples one after another (`exchange` does one request and returns its stamps) and keeps the best. */
export async function measureClockOffset(exchange: () => Promise<ClockSample>, count = 8): Promise<ClockOffset> {
  const samples: ClockSample[] = [];
  for (let i = 0; i < count; i++) samples.push(await exchange());
  return estimateOffset(samples);
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/**
 * The coordinator's time 0 on the agent's clock. An agent that runs its bots from here acts at
 * the coordinator's instants, and its history times (agent clock − this) are the coordinator's
 * timeline, within ± errorMs.
 */
export function localTimeZero(coordinatorZeroEpochMs: number, offset: Pick<ClockOffset, 'offsetMs'>): number {
  return coordinatorZeroEpochMs - offset.offsetMs;
}

/** This kernel's boot id: processes and containers with the same one share the monotonic clock (undefined off Linux). */
export function machineBootId(): string | undefined {
  try {
    return fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
