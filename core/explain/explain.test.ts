import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { HistoryEntry } from '../history';
import type { FaultRecord } from '../summary';
import type { CheckResult } from '../../verdict/types';
import { explainRun, grafanaLink, type RunRecord } from './explain';
import { readRunLogs, timeOfLine } from './log-lines';
import { HistoryIndex, locateOffence, offencesOf } from './offending-ops';
import { formatExplanation } from './format';
import { runDashboardUid } from '../../reports/grafana-reporter';

const ZERO = Date.parse('2026-12-02T10:00:00.000Z');
const iso = (ms: number) => new Date(ZERO + ms).toISOString();
const pgTime = (ms: number) => iso(ms).replace('T', ' ').replace('Z', ' UTC');

/** Two bots; alice's seq 3 (history #7, at 5 s) is the lost one. */
function history(): HistoryEntry[] {
  const entries: Array<Omit<HistoryEntry, 'index'>> = [];
  const op = (process: string, type: 'invoke' | 'ok' | 'fail' | 'info', f: string, seq: number | undefined, time: number, extra: object = {}) =>
    entries.push({ type, process, player: process, f, ...(seq !== undefined ? { seq } : {}), intendedAt: time, time, ...extra } as Omit<HistoryEntry, 'index'>);
  op('alice', 'invoke', 'login', undefined, 100);
  op('alice', 'ok', 'login', undefined, 110, { value: { lastSeq: 0 } });
  op('alice', 'invoke', 'collect', 1, 1_000, { value: { kind: 'collect' } });
  op('alice', 'ok', 'collect', 1, 1_010, { version: 1 });
  op('alice', 'invoke', 'collect', 2, 3_000);
  op('alice', 'ok', 'collect', 2, 3_010, { version: 2 });
  op('alice', 'invoke', 'buy', 3, 4_990, { value: { kind: 'buy', item: 'potion' } });
  op('alice', 'ok', 'buy', 3, 5_000, { version: 3, value: { outcome: 'applied' } }); // #7
  entries.push({ type: 'info', process: 'nemesis', f: 'fault-start', time: 5_200, value: { id: 't1', fault: 'backend-crash', target: 'backend', params: {} } } as Omit<HistoryEntry, 'index'>);
  op('bob', 'invoke', 'collect', 1, 5_300);
  op('bob', 'info', 'collect', 1, 7_300, { error: 'link lost' });
  entries.push({ type: 'info', process: 'nemesis', f: 'fault-stop', time: 7_500, value: { id: 't1', fault: 'backend-crash', target: 'backend', params: {} } } as Omit<HistoryEntry, 'index'>);
  op('alice', 'invoke', 'login', undefined, 7_600);
  op('alice', 'ok', 'login', undefined, 7_700, { value: { lastSeq: 2 } });
  op('alice', 'invoke', 'collect', 3, 8_000);
  op('alice', 'ok', 'collect', 3, 8_010, { version: 3 });
  op('alice', 'invoke', 'collect', 4, 20_000);
  op('alice', 'ok', 'collect', 4, 20_010, { version: 4 });
  return entries.map((entry, index) => ({ ...entry, index }) as HistoryEntry);
}

const LOST = 7;

function checks(h: HistoryEntry[]): CheckResult[] {
  return [
    { name: 'acked-durable', valid: false, summary: '1 violation', first: { problem: 'lost', op: h[LOST] }, worst: { problem: 'lost', op: h[LOST] }, offendingCount: 1, details: { examples: [{ problem: 'lost', op: h[LOST] }] } },
    { name: 'conservation', valid: false, summary: 'gold destroyed', first: { problem: 'ledger-differs', difference: -5 }, details: { examples: [{ problem: 'ledger-differs', difference: -5 }, { problem: 'negative-gold', player: 'bob', gold: -5 }] } },
    { name: 'monotonic', valid: true, summary: 'fine' },
  ];
}

function summary(h: HistoryEntry[], faults: FaultRecord[] = [{ id: 't1', fault: 'backend-crash', params: {}, startedAt: 5_200, stoppedAt: 7_500, healed: true, observations: { downtimeMs: 2300 } }]): RunRecord {
  return { runId: 'r1', checks: checks(h), faults, startedAt: iso(-2_000), timelineStartedAt: iso(0), finishedAt: iso(30_000), durationMs: 32_000 };
}

let runDir: string;
beforeEach(() => {
  runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lagstorm-explain-'));
  fs.mkdirSync(path.join(runDir, 'logs'));
  const backend = [
    `--- ${iso(-1_500)} starting backend: node main.ts`,
    JSON.stringify({ time: iso(-1_000), level: 'info', message: 'backend ready' }),
    JSON.stringify({ time: iso(-500), level: 'info', message: 'player logged in', player: 'alice' }), // before the window
    JSON.stringify({ time: iso(4_000), level: 'info', message: 'player logged in', player: 'bob' }), // another player's
    JSON.stringify({ time: iso(4_500), level: 'warn', message: 'batch commit failed; retrying', players: ['alice', 'bob'] }),
    JSON.stringify({ time: iso(5_100), level: 'error', message: 'write-behind flush failed', players: ['alice'] }),
    '    at flush (game-core.ts:670)', // a stack line: no time of its own, it belongs to the line above
    `--- ${iso(7_400)} starting backend: node main.ts`,
    JSON.stringify({ time: iso(10_001), level: 'info', message: 'after the window' }),
  ];
  fs.writeFileSync(path.join(runDir, 'logs', 'backend.log'), backend.join('\n') + '\n');
  const postgres = [
    `${pgTime(-1_800)} [10] LOG:  database system is ready to accept connections`,
    `${pgTime(4_000)} [11] LOG:  checkpoint starting: time`,
    `${pgTime(5_150)} [12] FATAL:  terminating connection due to administrator command`,
    `${pgTime(9_999)} [13] LOG:  checkpoint complete: wrote 3 buffers`,
    `${pgTime(10_500)} [14] LOG:  not in the window`,
  ];
  fs.writeFileSync(path.join(runDir, 'logs', 'postgresql.log'), postgres.join('\n') + '\n');
  fs.writeFileSync(path.join(runDir, 'logs', 'toxiproxy.log'), JSON.stringify({ time: iso(5_000), message: 'proxy call' }) + '\n');
});
afterEach(() => fs.rmSync(runDir, { recursive: true, force: true }));

describe('timeOfLine', () => {
  it.each([
    ['{"time":"2026-12-02T10:00:01.250Z","message":"x"}', ZERO + 1_250],
    ['{"level":30,"time":1796205601250,"msg":"pino"}', 1796205601250],
    ['{"ts":1796205601.25,"msg":"zap, seconds"}', 1796205601250],
    ['2026-12-02 10:00:01.250 UTC [42] LOG:  checkpoint starting', ZERO + 1_250],
    ['2026-12-02 11:00:01.250 +01 [42] LOG:  with an offset', ZERO + 1_250],
    ['--- 2026-12-02T10:00:01.250Z starting backend', ZERO + 1_250],
    ['[2026-12-02T10:00:01,250123Z] comma decimals', ZERO + 1_250],
  ])('%s', (line, expected) => expect(timeOfLine(line)).toBe(expected));

  it('is undefined for a line that carries no time', () => {
    expect(timeOfLine('    at flush (game-core.ts:670)')).toBeUndefined();
    expect(timeOfLine('{"message":"no time"}')).toBeUndefined();
  });
});

describe('locating offences', () => {
  const h = history();
  const index = new HistoryIndex(h);

  it('by the history entry the offence carries, its player and seq, a gift sender, or its player alone', () => {
    expect(locateOffence({ problem: 'lost', op: h[LOST] }, index)).toEqual({ entry: h[LOST], anchor: 'operation' });
    expect(locateOffence({ problem: 'desync', event: { index: 10, type: 'info', process: 'bob' } }, index)?.entry).toBe(h[10]);
    expect(locateOffence(h[3], index)).toEqual({ entry: h[3], anchor: 'operation' });
    // The (player, seq) action's ok completion, not its invoke.
    expect(locateOffence({ problem: 'duplicate-seq', player: 'alice', row: { seq: 2 } }, index)).toEqual({ entry: h[5], anchor: 'player-seq' });
    expect(locateOffence({ problem: 'state-differs', player: 'alice', divergence: { row: { player: 'alice', seq: 1 } } }, index)).toEqual({ entry: h[3], anchor: 'player-seq' });
    expect(locateOffence({ problem: 'gift-credited-twice', player: 'bob', gift: { from: 'alice', senderSeq: 1, to: 'bob' } }, index)).toEqual({ entry: h[3], anchor: 'player-seq' });
    // bob's seq 1 ended info: no ok, so its completion is the evidence.
    expect(locateOffence({ player: 'bob', seq: 1 }, index)?.entry).toBe(h[10]);
    expect(locateOffence({ problem: 'negative-gold', player: 'bob' }, index)).toEqual({ entry: h[10], anchor: 'player-last-op' });
    expect(locateOffence({ problem: 'ledger-differs', difference: -5 }, index)).toBeUndefined();
    expect(locateOffence({ op: { index: 999, type: 'ok', process: 'x' } }, index)).toBeUndefined();
  });

  it('takes each offence once with all its roles', () => {
    expect(offencesOf(checks(h)[0])).toEqual([{ offence: { problem: 'lost', op: h[LOST] }, roles: ['first', 'worst', 'example'] }]);
  });
});

describe('explainRun', () => {
  const h = history();

  it("picks the bot's operations around it, the player's and player-less log lines in the window, PostgreSQL's, and the active fault", () => {
    const { explanations, unlocated } = explainRun({ summary: summary(h), history: h, logs: readRunLogs(runDir) }, { windowMs: 5_000, opsAround: 3, grafanaUrl: 'http://grafana.test:3000/' });
    const lost = explanations.find((e) => e.check === 'acked-durable')!;
    expect(lost).toMatchObject({ index: LOST, roles: ['first', 'worst', 'example'], anchor: 'operation', process: 'alice', player: 'alice', time: 5_000, window: { from: 0, to: 10_000 } });
    // Three of alice's entries on each side; bob's and the nemesis' never.
    expect(lost.ops.map((op) => [op.index, op.offending])).toEqual([[4, false], [5, false], [6, false], [7, true], [12, false], [13, false], [14, false]]);
    expect(lost.ops[3]).toMatchObject({ type: 'ok', f: 'buy', seq: 3, version: 3, value: { outcome: 'applied' } });
    const backend = lost.backend.lines.map((line) => [line.line, line.player, line.approx, line.at]);
    expect(backend).toEqual([
      [5, true, false, 4_500],
      [6, true, false, 5_100],
      [7, true, true, 5_100],
      [8, false, false, 7_400],
    ]);
    expect(lost.backend).toMatchObject({ files: ['logs/backend.log'], omitted: 0 });
    expect(lost.postgres.lines.map((line) => line.text.match(/\[(\d+)\]/)![1])).toEqual(['11', '12', '13']);
    expect(lost.postgres.files).toEqual(['logs/postgresql.log']);
    expect(lost.faults).toEqual([{ id: 't1', fault: 'backend-crash', startedAt: 5_200, stoppedAt: 7_500, activeAtOp: false, observations: { downtimeMs: 2300 } }]);
    expect(lost.grafana).toBe(`http://grafana.test:3000/d/${runDashboardUid('r1')}?orgId=1&from=${ZERO}&to=${ZERO + 10_000}`);
    // conservation's negative balance is located at bob's last op; the changed total names nothing.
    const negative = explanations.find((e) => e.check === 'conservation')!;
    expect(negative).toMatchObject({ index: 10, anchor: 'player-last-op', player: 'bob' });
    expect(negative.faults[0].activeAtOp).toBe(true);
    expect(negative.backend.lines.map((line) => line.line)).toEqual([4, 5, 8, 9]); // not alice's error nor its stack line
    expect(unlocated).toEqual([{ check: 'conservation', roles: ['first', 'example'], offence: '{"problem":"ledger-differs","difference":-5}' }]);
    expect(explanations.some((e) => e.check === 'monotonic')).toBe(false);
  });

  it('narrows the window, the checks and the operation on request, and caps the lines keeping the closest', () => {
    const narrow = explainRun({ summary: summary(h), history: h, logs: readRunLogs(runDir) }, { windowMs: 200, opsAround: 0, checks: ['acked-durable'], grafanaUrl: 'http://g' });
    expect(narrow.explanations).toHaveLength(1);
    const [e] = narrow.explanations;
    expect(e.window).toEqual({ from: 4_800, to: 5_200 });
    expect(e.ops.map((op) => op.index)).toEqual([LOST]);
    expect(e.backend.lines.map((line) => line.line)).toEqual([6, 7]);
    expect(e.postgres.lines.map((line) => line.line)).toEqual([3]);
    expect(e.faults.map((fault) => [fault.id, fault.activeAtOp])).toEqual([['t1', false]]);
    const capped = explainRun({ summary: summary(h), history: h, logs: readRunLogs(runDir) }, { maxLines: 2, checks: ['acked-durable'], grafanaUrl: 'http://g' }).explanations[0];
    expect(capped.backend.lines.map((line) => line.line)).toEqual([6, 7]); // the player's own lines first, the closest of them
    expect(capped.backend.omitted).toBe(2);
    expect(capped.postgres.lines.map((line) => line.line)).toEqual([2, 3]); // the closest to 5 s
    expect(explainRun({ summary: summary(h), history: h, logs: [] }, { op: 10, grafanaUrl: 'http://g' }).explanations.map((x) => x.check)).toEqual(['conservation']);
    expect(explainRun({ summary: summary(h), history: h, logs: [] }, { op: 3, grafanaUrl: 'http://g' }).explanations).toEqual([]);
  });

  it('takes the faults from the history when the summary has none (an interrupted run), and the last fault before a window without one', () => {
    const [e] = explainRun({ summary: summary(h, []), history: h, logs: [] }, { checks: ['acked-durable'], grafanaUrl: 'http://g' }).explanations;
    expect(e.faults).toEqual([{ id: 't1', fault: 'backend-crash', startedAt: 5_200, stoppedAt: 7_500, activeAtOp: false }]);
    expect(e.backend).toEqual({ files: [], lines: [], omitted: 0 });
    // Nothing in a window after the fault: the last fault before it is shown as such.
    const after = explainRun({ summary: { ...summary(h), checks: [{ name: 'monotonic', valid: false, summary: 'x', first: { op: h[17] } }] }, history: h, logs: [] }, { grafanaUrl: 'http://g' }).explanations[0];
    expect(after.time).toBe(20_010);
    expect(after.faults).toEqual([{ id: 't1', fault: 'backend-crash', startedAt: 5_200, stoppedAt: 7_500, activeAtOp: false, beforeWindow: true, observations: { downtimeMs: 2300 } }]);
    expect(formatExplanation(after)).toContain('last fault before the window: backend-crash (t1) 5.200s → 7.500s');
  });

  it('reads as text with every layer named', () => {
    const [e] = explainRun({ summary: summary(h), history: h, logs: readRunLogs(runDir) }, { checks: ['acked-durable'], grafanaUrl: 'http://g' }).explanations;
    const text = formatExplanation(e);
    expect(text).toContain('── acked-durable: history #7 (first, worst, example) — alice at 5.000s');
    expect(text).toContain('offence: {"problem":"lost","op":"history #7"}');
    expect(text).toMatch(/▶ +#7 +5\.000s ok +buy seq 3 v3 \{"outcome":"applied"\}/);
    expect(text).toContain('in the window: backend-crash (t1) 5.200s → 7.500s — downtimeMs=2300');
    expect(text).toContain('+0.100s  logs/backend.log:6  {');
    expect(text).toContain('+0.150s  logs/postgresql.log:3  ');
    expect(text).toContain(`grafana: ${grafanaLink('http://g', 'r1', ZERO, ZERO + 10_000)}`);
    expect(text).not.toMatch(/undefined|NaN/);
  });
});
