/**
 * Checkers over a big history: generates a consistent synthetic run of ~1,000,000 history entries
 * (real game logic, real checksums) and its final snapshot, runs every checker 5 times, and writes
 * the median with a baseline measured in the same run (one linear pass that only counts ops).
 *
 *   node --max-old-space-size=4096 bin/run-ts.js bench/checkers.bench.ts [entries]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import type { BotEvent, ClientOp, HistoryEntry, NemesisOp } from '../core/history';
import type { CheckInput } from '../verdict/types';
import { runCheckers } from '../verdict/run-checkers';
import { checkerCatalog } from '../verdict/checkers';
import { effectModel, gameFeatures } from '../core/game';
import type { FinalSnapshot } from '../games/reference/rules/snapshot';
import referenceGame from '../games/reference';
import { faultWindows } from '../verdict/phases';
import { analyzeHistory, historyStats } from '../verdict/latency';
import { evaluateSlos } from '../verdict/slo';
import { applyAction, applyGiftReceived, ITEM_NAMES, newPlayer, STARTING_GOLD, type Action, type PlayerState } from '../games/reference/rules/model';
import { checksum } from '../games/reference/rules/checksum';
import { fixedRng } from './fixed-rng';

const TARGET_ENTRIES = Number(process.argv[2] ?? 1_000_000);
const PLAYERS = 2_000;
const REPEATS = 5;
const ROUND_MS = 100;
/** The reference game's verdict: its own checkers beside the generic ones (effect-based included), as a run does it. */
const FEATURES = gameFeatures(referenceGame);
const CHECKERS = referenceGame.checkers ?? [];
/** Every checker that applies to the reference game (transfers-conserved does not: its gold is not transfer-only). */
const CHECK_NAMES = checkerCatalog(CHECKERS).names.filter((name) => checkerCatalog(CHECKERS).get(name)?.appliesTo?.(FEATURES) === undefined);

type Draft = Omit<ClientOp, 'index'> | Omit<NemesisOp, 'index'> | Omit<BotEvent, 'index'>;

function generate(targetEntries: number): { history: HistoryEntry[]; final: FinalSnapshot; lastHealAt: number; runEndAt: number } {
  const random = fixedRng(42);
  const drafts: Draft[] = [];
  const states: PlayerState[] = [];
  const ids: string[] = [];
  for (let i = 0; i < PLAYERS; i++) {
    ids.push(`p${i}`);
    states.push(newPlayer(`p${i}`));
    drafts.push({ type: 'event', process: `bot${i}`, player: `p${i}`, f: 'session-start', time: 0 });
  }
  const actions: FinalSnapshot['actions'] = [];
  const gifts: FinalSnapshot['gifts'] = [];
  const login = (i: number, at: number, resumed: boolean) => {
    const state = states[i];
    const sum = checksum(state);
    drafts.push({ type: 'invoke', process: `bot${i}`, player: ids[i], f: 'login', intendedAt: at, time: at });
    drafts.push({ type: 'ok', process: `bot${i}`, player: ids[i], f: 'login', intendedAt: at, time: at + 3, value: { version: state.version, lastSeq: state.lastSeq, checksum: sum, resumed }, version: state.version, checksum: sum });
  };
  for (let i = 0; i < PLAYERS; i++) login(i, 1, false);

  // Entries still to come after the action rounds: a second login and a session-end per player.
  const reserve = PLAYERS * 3;
  const rounds = Math.ceil((targetEntries - drafts.length - reserve) / (2 * PLAYERS));
  const faults = [
    { id: 'f1', start: Math.floor(rounds * 0.3) * ROUND_MS, stop: Math.floor(rounds * 0.4) * ROUND_MS },
    { id: 'f2', start: Math.floor(rounds * 0.6) * ROUND_MS, stop: Math.floor(rounds * 0.65) * ROUND_MS },
  ];
  for (const fault of faults) {
    const value = { id: fault.id, fault: 'latency', target: 'client-link', params: { latency: 200 } };
    drafts.push({ type: 'info', process: 'nemesis', f: 'fault-start', time: fault.start, value });
    drafts.push({ type: 'info', process: 'nemesis', f: 'fault-stop', time: fault.stop, value });
  }
  const lastHealAt = faults[1].stop;

  let entries = drafts.length;
  for (let round = 0; round < rounds && entries + reserve < targetEntries; round++) {
    const base = 10 + round * ROUND_MS;
    const inFault = faults.some((f) => base >= f.start && base < f.stop);
    for (let i = 0; i < PLAYERS && entries + reserve < targetEntries; i++) {
      const state = states[i];
      const roll = random();
      let action: Action;
      if (roll < 0.5) action = { kind: 'collect' };
      else if (roll < 0.7) action = { kind: 'buy', item: ITEM_NAMES[Math.floor(random() * ITEM_NAMES.length)] };
      else if (roll < 0.8) action = { kind: 'upgrade' };
      else action = { kind: 'gift-send', to: ids[(i + 1 + Math.floor(random() * (PLAYERS - 1))) % PLAYERS], amount: 1 + Math.floor(random() * 20) };
      const seq = state.lastSeq + 1;
      const at = base + (i % 50);
      const latency = inFault ? 150 + Math.floor(random() * 100) : 2 + Math.floor(random() * 20);
      const common = { process: `bot${i}`, player: ids[i], f: action.kind, seq, intendedAt: at };
      drafts.push({ ...common, type: 'invoke', value: action, time: at });
      const outcome = random();
      if (outcome < 0.005) {
        // Failed before the server took it: not applied, the seq is used again next round.
        // Shed at once (a bot has one action in flight, so the refusal comes back before its next invoke).
        drafts.push({ ...common, type: 'fail', time: at + Math.min(latency, 40), error: 'overloaded' });
      } else {
        const applied = applyAction(state, action, seq);
        states[i] = applied.state;
        const sum = checksum(applied.state);
        actions.push({ player: ids[i], seq, action, result: applied.result, version: applied.state.version, checksum: sum });
        if (action.kind === 'gift-send' && applied.result.outcome === 'applied') {
          const to = Number(action.to.slice(1));
          states[to] = applyGiftReceived(states[to], action.amount);
          gifts.push({ from: ids[i], to: action.to, amount: action.amount, senderSeq: seq, recipientVersion: states[to].version });
        }
        // Some acks are lost in flight (info); the action was applied all the same.
        if (outcome < 0.01) drafts.push({ ...common, type: 'info', time: at + latency, error: 'timeout' });
        else drafts.push({ ...common, type: 'ok', time: at + latency, value: applied.result, version: applied.state.version, checksum: sum });
      }
      entries += 2;
    }
  }
  const endAt = 10 + (rounds + 1) * ROUND_MS;
  for (let i = 0; i < PLAYERS; i++) login(i, endAt, true);
  for (let i = 0; i < PLAYERS; i++) {
    drafts.push({ type: 'event', process: `bot${i}`, player: ids[i], f: 'session-end', time: endAt + 10, value: { version: states[i].version, checksum: checksum(states[i]), pendingInfo: 0 } });
  }

  drafts.sort((a, b) => a.time - b.time);
  const history = drafts.map((draft, index) => ({ ...draft, index }) as HistoryEntry);
  let sources = STARTING_GOLD * PLAYERS;
  let sinks = 0;
  const byReason: Record<string, number> = { 'starting-grant': sources };
  for (const row of actions) {
    if (row.result.outcome !== 'applied') continue;
    for (const entry of row.result.ledger) {
      byReason[entry.reason] = (byReason[entry.reason] ?? 0) + entry.amount;
      if (entry.kind === 'source') sources += entry.amount;
      else sinks += entry.amount;
    }
  }
  const final: FinalSnapshot = {
    takenAt: new Date().toISOString(),
    players: states.map((state) => ({ state, checksum: checksum(state) })),
    actions,
    gifts,
    ledger: { sources, sinks, byReason },
    totalGold: states.reduce((sum, s) => sum + s.gold, 0),
  };
  return { history, final, lastHealAt, runEndAt: endAt + 10 };
}

/** The baseline: one linear pass over the history that only counts ops by type. */
function countOps(history: ReadonlyArray<HistoryEntry>): number {
  let invokes = 0;
  let completions = 0;
  let other = 0;
  for (const entry of history) {
    if (entry.type === 'invoke') invokes++;
    else if (entry.type === 'ok' || entry.type === 'fail' || entry.type === 'info') completions++;
    else other++;
  }
  return invokes + completions + other;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const round = (n: number, digits = 4) => Math.round(n * 10 ** digits) / 10 ** digits;

async function main(): Promise<void> {
  const generatedAt = performance.now();
  const { history, final, lastHealAt, runEndAt } = generate(TARGET_ENTRIES);
  const generationSeconds = (performance.now() - generatedAt) / 1000;
  console.log(`generated ${history.length} entries, ${final.actions.length} log rows, ${final.gifts.length} gifts in ${generationSeconds.toFixed(1)} s`);
  const input: CheckInput = { history, final, effects: effectModel(referenceGame), limits: { reconnectWithinMs: 10_000 }, lastHealAt, runEndAt };

  const checkerRuns: number[] = [];
  const baselineRuns: number[] = [];
  const statsRuns: number[] = [];
  const perChecker: Record<string, number[]> = {};
  for (let repeat = 0; repeat < REPEATS; repeat++) {
    let started = performance.now();
    if (countOps(history) !== history.length) throw new Error('baseline miscounted');
    baselineRuns.push((performance.now() - started) / 1000);

    started = performance.now();
    const results = await runCheckers(CHECK_NAMES, input, { features: FEATURES, checkers: CHECKERS });
    checkerRuns.push((performance.now() - started) / 1000);
    for (const result of results) {
      if (result.valid !== true) throw new Error(`the synthetic history is consistent, yet ${result.name} says ${result.valid}: ${result.summary}`);
      (perChecker[result.name] ??= []).push(Number(result.details?.durationMs) / 1000);
    }

    started = performance.now();
    const timeline = faultWindows(history);
    const analysis = analyzeHistory(history, timeline);
    historyStats(analysis);
    evaluateSlos({ action_rtt: { baseline: 'p(99)<50ms', fault: 'p(99)<500ms', recovery: 'p(99)<50ms' }, error_rate: 'rate<5%', time_to_recover: '<10s' }, history, timeline, { analysis, runEndAt });
    statsRuns.push((performance.now() - started) / 1000);
    console.log(`run ${repeat + 1}: checkers ${checkerRuns[repeat].toFixed(3)} s, baseline ${baselineRuns[repeat].toFixed(4)} s, latency+SLOs ${statsRuns[repeat].toFixed(3)} s`);
  }

  const checkersSeconds = median(checkerRuns);
  const baselineSeconds = median(baselineRuns);
  const report = {
    benchmark: 'checkers',
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    // The machine is shared: the load when the run ended puts the figures in context.
    loadAverage: loadavg().map((n) => round(n, 2)),
    entries: history.length,
    players: PLAYERS,
    logRows: final.actions.length,
    giftCredits: final.gifts.length,
    repeats: REPEATS,
    generationSeconds: round(generationSeconds, 2),
    checkers: { names: [...CHECK_NAMES], medianSeconds: round(checkersSeconds), opsPerSecond: Math.round(history.length / checkersSeconds), runsSeconds: checkerRuns.map((s) => round(s)) },
    perCheckerMedianSeconds: Object.fromEntries(Object.entries(perChecker).map(([name, runs]) => [name, round(median(runs))])),
    baseline: { what: 'one linear pass over the history counting ops by type', medianSeconds: round(baselineSeconds, 6), opsPerSecond: Math.round(history.length / baselineSeconds), runsSeconds: baselineRuns.map((s) => round(s, 6)) },
    ratioCheckersToBaseline: round(checkersSeconds / baselineSeconds, 1),
    latencyAndSlos: { what: 'faultWindows + analyzeHistory (HDR) + historyStats + evaluateSlos', medianSeconds: round(median(statsRuns)), runsSeconds: statsRuns.map((s) => round(s)) },
    target: { checkersMaxSeconds: 10, met: checkersSeconds <= 10 },
  };
  const out = path.join(__dirname, 'results', 'checkers.json');
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(JSON.stringify({ checkersMedianSeconds: report.checkers.medianSeconds, opsPerSecond: report.checkers.opsPerSecond, baselineSeconds: report.baseline.medianSeconds, ratio: report.ratioCheckersToBaseline, perChecker: report.perCheckerMedianSeconds, latencyAndSlos: report.latencyAndSlos.medianSeconds }, null, 2));
  console.log(`wrote ${out}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(2);
});
