/**
 * Through the real CLI and a real stack (the counter test game, its server, PostgreSQL, Toxiproxy):
 * `run --segment` plays only its segment's bots, the run writes the compact history, and
 * `history cat` prints it as plain JSON lines that the verdict's reader agrees with. Bad segment
 * flags are refused before anything starts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isClientOp, type HistoryEntry } from '../core/history';
import { readHistoryAll } from '../core/history-file';
import { runCli } from './run-cli';

const SCENARIO = path.join('test', 'fixtures', 'counter-game', 'counter.scenario.ts');

describe('run --segment and history cat', () => {
  let out: string;
  beforeEach(() => (out = fs.mkdtempSync(path.join(os.tmpdir(), 'lagstorm-segment-'))));
  afterEach(() => fs.rmSync(out, { recursive: true, force: true }));

  it('a half of the clickers plays, and the compact history reads back as plain JSON lines', async () => {
    const result = await runCli(['run', SCENARIO, '--seed', '3', '--out', out, '--reporters', 'json', '--segment', '0:1/2', '--segment-sequence', '0,1/2,1'], { timeoutMs: 120_000 });
    const runDir = fs.realpathSync(path.join(out, 'latest'));
    const summary = JSON.parse(fs.readFileSync(path.join(runDir, 'summary.json'), 'utf8')) as { verdict: string; errors: string[]; checks: Array<{ name: string; valid: unknown }> };
    expect({ code: result.code, verdict: summary.verdict, errors: summary.errors }).toEqual({ code: 0, verdict: 'pass', errors: [] });
    expect(summary.checks.find((check) => check.name === 'counter')?.valid).toBe(true);
    expect(fs.existsSync(path.join(runDir, 'history.jsonl.gz'))).toBe(true);
    expect(fs.existsSync(path.join(runDir, 'history.jsonl'))).toBe(false);

    // Six clickers on slots 0-5; the sequence 0,1/2,1 deals them out alternately, so 0:1/2 owns slots 0, 2 and 4.
    const history: HistoryEntry[] = await readHistoryAll(runDir);
    const bots = new Set(history.filter(isClientOp).map((op) => op.process));
    expect([...bots].sort()).toEqual(['clickers-1', 'clickers-3', 'clickers-5']);
    expect(history.filter((entry) => entry.process === 'nemesis').map((entry) => entry.f)).toEqual(['fault-start', 'fault-stop', 'fault-start', 'fault-stop']);

    const cat = await runCli(['history', 'cat', runDir]);
    expect(cat.code).toBe(0);
    const lines = cat.stdout.trim().split('\n');
    expect(lines.map((line) => JSON.parse(line) as HistoryEntry)).toEqual(history);
    expect(lines[0]).toMatch(/^\{"index":0,"type":/);
  }, 150_000);

  it('refuses a bad segment, naming the flag, before anything starts', async () => {
    const empty = await runCli(['run', SCENARIO, '--out', out, '--segment', '1/2:1/4']);
    expect({ code: empty.code, stderr: empty.stderr.trim() }).toEqual({ code: 3, stderr: 'lagstorm: --segment: "1/2:1/4" is empty: from must be below to, e.g. 1/4:1/2' });
    const notInSequence = await runCli(['run', SCENARIO, '--out', out, '--segment', '1/4:1/2', '--segment-sequence', '0,1/3,1']);
    expect(notInSequence.code).toBe(3);
    expect(notInSequence.stderr).toMatch(/--segment-sequence: segment 1\/4:1\/2 is not one of the sequence's segments \(0,1\/3,1\); pick two adjacent points/);
    const alone = await runCli(['run', SCENARIO, '--out', out, '--segment-sequence', '0,1/2,1']);
    expect(alone.code).toBe(3);
    expect(alone.stderr).toMatch(/--segment-sequence only applies with --segment/);
    expect(fs.readdirSync(out)).toEqual([]); // no run folder: nothing started

    const missing = await runCli(['history', 'cat', path.join(out, 'no-such-run')]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/no-such-run not found: pass a run folder/);
  }, 60_000);
});
