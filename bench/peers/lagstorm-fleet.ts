/**
 * The peer bench's lagstorm side: `startFleet` as a run uses it (worker threads, Prometheus
 * metrics on, every operation recorded in history.jsonl), playing the echo-ack game.
 *   node bin/run-ts.js bench/peers/lagstorm-fleet.ts <ws-url> <bots> <ramp-ms> <duration-ms> <history-file>
 */
import * as path from 'node:path';
import { scenarioSchema } from '../../core/scenario/schema';
import { startFleet } from '../../bots/fleet/fleet';
import { HistoryRecorder } from '../../bots/history/recorder';

async function main(): Promise<void> {
  const [url, bots, rampMs, durationMs, historyFile] = process.argv.slice(2);
  const runStartEpochMs = Date.now();
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
  await fleet.done;
  await stop();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(2);
});
