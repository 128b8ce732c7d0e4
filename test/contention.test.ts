/**
 * Contention (issue #14), through the real CLI and a real stack: the hot-player incident
 * (pipelining clients, a hot player, a guild bank hit in bursts) passes on the correct reference
 * backend and shows the contention really happened; with the planted `bank-lost-update` defect the
 * same run fails, through the checkers that must catch a lost update.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ClientOp, HistoryEntry } from '../core/history';
import type { RunSummary } from '../core/summary';
import { runCli } from './run-cli';
import { readHistoryAll } from '../core/history-file';

const SCENARIO = 'scenarios/incidents/hot-player-gifting-event.scenario.ts';
/** A run is ~19 s of play plus the stack; the margin covers a busy machine. */
const RUN_TIMEOUT_MS = 120_000;

let out: string;
beforeAll(() => {
  out = fs.mkdtempSync(path.join(os.tmpdir(), 'lagstorm-contention-'));
});
afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

async function run(label: string, extra: string[]): Promise<{ code: number | null; summary: RunSummary; history: HistoryEntry[]; output: string }> {
  const runsDir = path.join(out, label);
  const result = await runCli(['run', SCENARIO, '--seed', '1', '--out', runsDir, '--reporters', 'json', ...extra], { timeoutMs: RUN_TIMEOUT_MS });
  const runDir = fs.realpathSync(path.join(runsDir, 'latest'));
  const summary = JSON.parse(fs.readFileSync(path.join(runDir, 'summary.json'), 'utf8')) as RunSummary;
  const history = await readHistoryAll(runDir);
  return { code: result.code, summary, history, output: `${result.stdout}\n${result.stderr}`.slice(-2000) };
}

const actions = (history: HistoryEntry[]): ClientOp[] => history.filter((entry): entry is ClientOp => entry.type !== 'event' && entry.process !== 'nemesis' && (entry as ClientOp).seq !== undefined);

/** Per bot, the most actions it had in flight at once (ops keyed by seq). */
function mostInFlight(history: HistoryEntry[]): number {
  const open = new Map<string, Set<number>>();
  let most = 0;
  for (const op of actions(history)) {
    let set = open.get(op.process);
    if (!set) open.set(op.process, (set = new Set()));
    if (op.type === 'invoke') set.add(op.seq!);
    else set.delete(op.seq!);
    most = Math.max(most, set.size);
  }
  return most;
}

test(
  'the correct backend passes the hot-player incident, and the contention really happened',
  async () => {
    const { code, summary, history, output } = await run('correct', []);
    expect({
      code,
      verdict: summary.verdict,
      failing: summary.checks.filter((check) => check.valid !== true && check.valid !== 'n/a').map((check) => `${check.name}: ${check.summary}`),
      failingSlos: summary.slos.filter((slo) => !slo.ok).map((slo) => `${slo.metric}/${slo.phase}: ${slo.observed}`),
      ...(code === 0 ? {} : { output }),
    }).toEqual({ code: 0, verdict: 'pass', failing: [], failingSlos: [] });
    // Pipelining: some bot had more than one action in flight, never more than client.pipeline (4).
    const most = mostInFlight(history);
    expect(most).toBeGreaterThan(1);
    expect(most).toBeLessThanOrEqual(4);
    // The hot player got most of the fans' gifts.
    const gifts = actions(history).filter((op) => op.type === 'invoke' && op.f === 'gift-send' && op.process.startsWith('fans-'));
    const toHot = gifts.filter((op) => (op.value as { to: string }).to === 'streamers-1').length;
    expect(gifts.length).toBeGreaterThan(50);
    expect(toHot / gifts.length).toBeGreaterThan(0.7);
    // Bursts: many guild-bank operations intended for the very same instant.
    const bankByInstant = new Map<number, number>();
    for (const op of actions(history)) if (op.type === 'invoke' && op.f.startsWith('guild-') && !op.process.startsWith('fans-')) bankByInstant.set(op.intendedAt, (bankByInstant.get(op.intendedAt) ?? 0) + 1);
    expect(Math.max(...bankByInstant.values())).toBeGreaterThanOrEqual(10);
    const conservation = summary.checks.find((check) => check.name === 'conservation')!;
    expect(conservation.summary).toMatch(/and 1 guild bank matches the ledger/);
  },
  RUN_TIMEOUT_MS + 10_000,
);

test(
  'with bank-lost-update the same run fails through conservation and acked-effects (the bank lost acked deposits)',
  async () => {
    const { code, summary } = await run('defect', ['--defect', 'bank-lost-update']);
    expect(code).toBe(1);
    expect(summary.verdict).toBe('fail');
    const invalid = summary.checks.filter((check) => check.valid === false).map((check) => check.name);
    expect(invalid).toEqual(expect.arrayContaining(['conservation', 'acked-effects']));
    const effects = summary.checks.find((check) => check.name === 'acked-effects')!;
    expect(effects.summary).toMatch(/guild:guild-1's bank-gold is -?\d+, but the history says/);
    // Only the lost update is wrong: no desync, no lost or doubled player actions.
    for (const name of ['no-desync', 'exactly-once-keys', 'acked-durable', 'monotonic']) expect(summary.checks.find((check) => check.name === name)?.valid).toBe(true);
  },
  RUN_TIMEOUT_MS + 10_000,
);
