/**
 * The incident library (scenarios/incidents/): every scenario validates, and every one runs for
 * real through the CLI against the correct reference backend, passes, and shows in its run folder
 * that the incident really happened (reconnect storm, checkpoints, retained WAL and a PANIC,
 * dropped packets with timeouts, IPv6 connections).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import referenceGame from '../games/reference';
import type { Distribution } from '../core/distributions';
import type { BotEvent, ClientOp, HistoryEntry } from '../core/history';
import { readHistoryAll } from '../core/history-file';
import { loadScenario } from '../core/runner';
import { defaultParts } from '../cli/composition-root';
import type { RunSummary } from '../core/summary';
import { REPO, runCli, type CliResult } from './run-cli';

const INCIDENTS = path.join(REPO, 'scenarios', 'incidents');
/** A run takes ~30-40 s here; the margin covers a machine busy with the rest of the suite. */
const RUN_TIMEOUT_MS = 140_000;
const TEST_TIMEOUT_MS = RUN_TIMEOUT_MS + 10_000;

interface IncidentRun {
  result: CliResult;
  summary: RunSummary;
  history: HistoryEntry[];
  endpoints: Record<string, string>;
}

const incidentFiles = fs
  .readdirSync(INCIDENTS)
  .filter((file) => file.endsWith('.scenario.ts'))
  .sort();

function events(history: HistoryEntry[], f: BotEvent['f']): BotEvent[] {
  return history.filter((entry): entry is BotEvent => entry.type === 'event' && entry.f === f);
}

function unplannedReconnects(history: HistoryEntry[]): BotEvent[] {
  return events(history, 'reconnected').filter((event) => (event.value as { voluntary: boolean }).voluntary === false);
}

function faultOf(summary: RunSummary, fault: string) {
  const record = summary.faults.find((f) => f.fault === fault);
  if (!record) throw new Error(`the run has no ${fault} fault: ${summary.faults.map((f) => f.fault).join(', ')}`);
  return { ...record, observations: record.observations ?? {} };
}

function maxThinkTimeMs(distribution: Distribution): number {
  return 'max' in distribution && distribution.max !== undefined ? distribution.max : Infinity;
}

describe('incident scenarios: validation', () => {
  it('holds the six incidents', () => {
    // hot-player-gifting-event runs for real in test/contention.test.ts (with and without its defect).
    expect(incidentFiles).toEqual([
      'checkpoint-storm.scenario.ts',
      'hot-player-gifting-event.scenario.ts',
      'ipv6-only.scenario.ts',
      'login-storm-after-restart.scenario.ts',
      'lossy-mobile.scenario.ts',
      'stuck-slot-disk-full.scenario.ts',
    ]);
  });

  it.each(incidentFiles)('%s validates, is short, documents itself and leaves every bot time to act after the last heal', (file) => {
    const { scenario } = loadScenario({ scenarioFile: path.join(INCIDENTS, file) }, defaultParts);
    expect(scenario.name).toBe(`incident-${file.replace('.scenario.ts', '')}`);
    expect(scenario.duration).toBeLessThanOrEqual(30_000);
    expect(scenario.backend.defect).toBe('none');
    expect(scenario.faults.timeline.length).toBeGreaterThan(0);
    const text = fs.readFileSync(path.join(INCIDENTS, file), 'utf8');
    expect(text).toMatch(/^\s*\*\s*Incident: /m);
    expect(text).toContain(`node bin/lagstorm.js run scenarios/incidents/${file}`);
    expect(text).toMatch(/Takes about \d+ s/);
    // A bot still thinking when the run ends never acts after the heal and reads as not recovered:
    // the time after the last fault must outlast every profile's longest think time.
    const lastHealAt = Math.max(...scenario.faults.timeline.map((step) => step.at + step.duration));
    const afterLastHeal = scenario.duration + scenario.recovery.window - lastHealAt;
    for (const group of Object.values(scenario.bots)) expect(maxThinkTimeMs(referenceGame.profiles[group.profile].thinkTime)).toBeLessThanOrEqual(afterLastHeal);
  });

  it('reports a mistake in an incident scenario with its path (the files are checked, not just loaded)', () => {
    const { scenario } = loadScenario({ scenarioFile: path.join(INCIDENTS, 'checkpoint-storm.scenario.ts') }, defaultParts);
    const broken = JSON.parse(JSON.stringify(scenario)) as { faults: { timeline: Array<{ params: Record<string, unknown> }> } };
    broken.faults.timeline[0].params.maxWalSize = 'tiny';
    expect(() => loadScenario({ scenarioInput: broken }, defaultParts)).toThrow(/faults\.timeline\[0\]\.params\.maxWalSize/);
  });
});

describe('incident scenarios: real runs against the correct reference backend', () => {
  let out: string;
  beforeAll(() => {
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'lagstorm-incidents-'));
  });
  afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

  /** Runs one incident through the real CLI and reads its run folder; asserts the run passed. */
  async function runIncident(file: string, seed: number): Promise<IncidentRun> {
    const runsDir = path.join(out, file.replace('.scenario.ts', ''));
    const result = await runCli(['run', `scenarios/incidents/${file}`, '--seed', String(seed), '--out', runsDir, '--reporters', 'json'], { timeoutMs: RUN_TIMEOUT_MS });
    const runDir = fs.realpathSync(path.join(runsDir, 'latest'));
    const summary = JSON.parse(fs.readFileSync(path.join(runDir, 'summary.json'), 'utf8')) as RunSummary;
    // On failure this shows what broke: the failing checks and SLOs with their observed values.
    expect({
      code: result.code,
      verdict: summary.verdict,
      errors: summary.errors,
      failingChecks: summary.checks.filter((check) => check.valid !== true && check.valid !== 'n/a').map((check) => `${check.name}: ${check.summary}`),
      failingSlos: summary.slos.filter((slo) => !slo.ok).map((slo) => `${slo.metric}/${slo.phase} ${slo.limit}: observed ${slo.observed}`),
      unhealed: summary.faults.filter((fault) => !fault.healed).map((fault) => fault.fault),
      ...(result.code === 0 ? {} : { outputTail: `${result.stdout}\n${result.stderr}`.slice(-2000) }),
    }).toEqual({ code: 0, verdict: 'pass', errors: [], failingChecks: [], failingSlos: [], unhealed: [] });
    const history: HistoryEntry[] = await readHistoryAll(runDir);
    const endpoints = (JSON.parse(fs.readFileSync(path.join(runDir, 'stack.json'), 'utf8')) as { endpoints: Record<string, string> }).endpoints;
    expect(summary.checks.map((check) => check.name).sort()).toEqual(['acked-durable', 'acked-effects', 'conservation', 'exactly-once', 'exactly-once-keys', 'monotonic', 'no-desync', 'recovery', 'transfers-conserved']);
    expect(summary.stats.gaveUp).toBe(0);
    expect(summary.stats.loadGenerator.saturated).toBe(false);
    return { result, summary, history, endpoints };
  }

  it(
    'login storm after a restart: all 300 players reconnect within ~2 s of the backend coming back and recover',
    async () => {
      const { summary, history } = await runIncident('login-storm-after-restart.scenario.ts', 1);
      const restart = faultOf(summary, 'backend-restart');
      expect(restart.observations.downtimeMs).toBeGreaterThanOrEqual(3000);
      expect(restart.observations.pidAfter).not.toBe(restart.observations.pidBefore);
      expect(summary.stats.bots).toBe(300);
      const reconnects = unplannedReconnects(history);
      // Every player lost its connection and came back: one unplanned reconnect per bot at least.
      expect(new Set(reconnects.map((event) => event.process)).size).toBe(300);
      expect(summary.stats.reconnects).toBeGreaterThanOrEqual(300);
      // A storm, not a trickle: nearly all of them land within 2 s of the new process being up.
      const backAt = restart.startedAt + Number(restart.observations.downtimeMs);
      const inBurst = reconnects.filter((event) => event.time >= backAt - 500 && event.time <= backAt + 2000).length;
      expect(inBurst).toBeGreaterThanOrEqual(0.9 * reconnects.length);
      const resume = summary.slos.find((slo) => slo.metric === 'session_resume' && slo.phase === 'recovery')!;
      expect(resume.samples).toBeGreaterThanOrEqual(150);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'checkpoint storm: checkpoints run back to back under a WAL flood while action latency holds per phase',
    async () => {
      const { summary } = await runIncident('checkpoint-storm.scenario.ts', 1);
      const storm = faultOf(summary, 'checkpoint-storm');
      // ~8 here; under the defaults (max_wal_size 1GB, checkpoint_timeout 5min) the ~120 MB of WAL
      // trigger none, apart from the one CHECKPOINT the writer issues when it starts.
      expect(Number(storm.observations.checkpointsRequested) + Number(storm.observations.checkpointsTimed)).toBeGreaterThanOrEqual(4);
      const flood = faultOf(summary, 'wal-flood');
      expect(Number(flood.observations.walMbPerSecond)).toBeGreaterThanOrEqual(4);
      expect(Number(flood.observations.fullPageImages)).toBeGreaterThan(0);
      const faultPhase = summary.slos.find((slo) => slo.metric === 'action_rtt' && slo.phase === 'fault')!;
      expect(faultPhase.samples).toBeGreaterThan(300);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'stuck slot filling the WAL disk: WAL is retained, PostgreSQL PANICs, and the backend loses no acknowledged action',
    async () => {
      const { summary, history } = await runIncident('stuck-slot-disk-full.scenario.ts', 1);
      const slot = faultOf(summary, 'stuck-slot');
      expect(Number(slot.observations.retainedBytes)).toBeGreaterThanOrEqual(8 * 1024 * 1024);
      expect(slot.observations.walStatus).toMatch(/^(reserved|extended)$/);
      const diskFull = faultOf(summary, 'wal-disk-full');
      expect(String(diskFull.observations.panic)).toMatch(/PANIC: .*No space left on device/);
      expect(Number(diskFull.observations.recoveryMs)).toBeGreaterThan(0);
      // Players kept playing after crash recovery: acknowledged actions after the heal.
      const healedAt = diskFull.stoppedAt!;
      const okAfter = history.filter((entry): entry is ClientOp => entry.type === 'ok' && entry.process !== 'nemesis' && entry.time > healedAt && (entry as ClientOp).f !== 'login');
      expect(okAfter.length).toBeGreaterThan(100);
      expect(summary.checks.find((check) => check.name === 'acked-durable')!.summary).toMatch(/acked actions are durable/);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'lossy mobile link: dropped packets stall heartbeats into timeouts and reconnects, and every player recovers',
    async () => {
      const { summary, history } = await runIncident('lossy-mobile.scenario.ts', 1);
      const loss = faultOf(summary, 'kernel-packet-loss');
      expect(Number(loss.observations.packetsHit)).toBeGreaterThan(100);
      const timeouts = history.filter((entry): entry is ClientOp => entry.type === 'info' && entry.process !== 'nemesis' && /pong timeout/.test((entry as ClientOp).error ?? ''));
      const reconnects = unplannedReconnects(history);
      expect(timeouts.length + reconnects.length).toBeGreaterThanOrEqual(4);
      // The packet loss caused them: no unplanned reconnect before it began.
      expect(reconnects.filter((event) => event.time < loss.startedAt)).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'IPv6-only clients: every session goes through [::1] and survives the outage of the IPv6 link',
    async () => {
      const { summary, history, endpoints } = await runIncident('ipv6-only.scenario.ts', 1);
      expect(endpoints.botsWsUrlV6).toMatch(/^ws:\/\/\[::1\]:\d+$/);
      const starts = events(history, 'session-start');
      expect(new Set(starts.map((event) => event.process)).size).toBe(summary.stats.bots);
      expect(new Set(starts.map((event) => (event.value as { url: string }).url))).toEqual(new Set([endpoints.botsWsUrlV6]));
      for (const record of summary.faults) expect(record.params.link).toBe('bots-backend-v6');
      // The link outage dropped the connections; every bot came back over IPv6 after it began
      // (a churner that was offline by choice at that moment resumes voluntarily, through the same link).
      const outage = faultOf(summary, 'link-down');
      const back = events(history, 'reconnected').filter((event) => event.time >= outage.startedAt);
      expect(new Set(back.map((event) => event.process)).size).toBe(summary.stats.bots);
      expect(new Set(unplannedReconnects(history).map((event) => event.process)).size).toBeGreaterThanOrEqual(0.75 * summary.stats.bots);
    },
    TEST_TIMEOUT_MS,
  );
});
