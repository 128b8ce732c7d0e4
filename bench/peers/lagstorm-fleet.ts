/**
 * The peer bench's lagstorm side: `startFleet` as a run uses it (its default threads, Prometheus
 * metrics on, every operation recorded in history.jsonl), playing the echo-ack game.
 *   node bin/run-ts.js bench/peers/lagstorm-fleet.ts <ws-url> <bots> <ramp-ms> <duration-ms> <history-file>
 */
import * as path from 'node:path';
import { epochNowMs } from '../../core/clock';
import { scenarioSchema } from '../../core/scenario/schema';
import { startFleet } from '../../bots/fleet/fleet';
import { HistoryRecorder } from '../../bots/history/recorder';

async function main(): Promise<void> {
  const [url, bots, rampMs, durationMs, historyFile] = process.argv.slice(2);
  const runStartEpochMs = epochNowMs(); // the fleet's own clock (core/clock.ts), not the wall clock
  const recorder = new HistoryRecorder(historyFile, { runStartEpochMs });
  const scenario = {
    ...scenarioSchema.parse({
      name: 'peer-bench',
      duration: Number(durationMs),
      recovery: { window: 1000 },
      bots: { echo: { profile: 'pinger', count: Number(bots), ramp: Number(rampMs) } },
    }),
    seed: 1,
  };
  const fleet = await startFleet({ scenario, gameModule: path.join(__dirname, 'echo-game.ts'), wsUrl: url, runStartEpochMs, recorder });
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await fleet.stop();
    await recorder.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  const result = await fleet.done;
  // Into the tool's log (bench scratch dir): whether the fleet itself saw saturation.
  console.error(`load generator: ${JSON.stringify(result.loadGenerator)}`);
  await stop();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(2);
});
