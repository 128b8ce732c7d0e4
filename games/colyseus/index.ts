/**
 * A third-party game server as a lagstorm plug-in: a real Colyseus 0.16 server (server/) whose
 * `world` room keeps players in PostgreSQL, driven through the official colyseus.js client. It
 * uses the plug-in port only (imports from 'lagstorm', nothing of the reference game): declared
 * effects on gold (mined, traded) and gems (transfer-only), the final state from the admin API, and
 * the applied idempotency keys, so the generic checkers judge it (acked-effects,
 * transfers-conserved, exactly-once-keys). No shadow model and no state versions: no-desync and
 * monotonic show n/a.
 */
import path from 'node:path';
import { defineGame } from 'lagstorm';
import { ACTIONS } from './actions';
import { ColyseusGameClient } from './client';
import { PROFILES } from './profiles';
import { STARTING_GEMS, STARTING_GOLD, type FinalState } from './rules';
import { DEFECTS } from './server/defects';

export default defineGame<FinalState>({
  name: 'colyseus',
  description: 'A Colyseus 0.16 room server on PostgreSQL, played through colyseus.js (mine gold, gift and trade gems).',
  client: (context) => new ColyseusGameClient(context),
  actions: ACTIONS,
  profiles: PROFILES,
  quantities: { gold: { initial: STARTING_GOLD }, gems: { initial: STARTING_GEMS, transferOnly: true } },
  readFinalState: async ({ adminUrl }) => {
    const url = `${adminUrl}/state`;
    const response = await fetch(url, { signal: AbortSignal.timeout(30_000) });
    if (!response.ok) throw new Error(`GET ${url} answered ${response.status}: ${(await response.text()).slice(0, 200)}; is the backend up? its log is in the run folder`);
    return (await response.json()) as FinalState;
  },
  finalQuantities: (final) => Object.fromEntries(final.players.map((player) => [player.id, { gold: player.gold, gems: player.gems }])),
  appliedKeys: (final) => final.applied,
  server: { entry: path.join(__dirname, 'server', 'main.ts'), image: 'lagstorm/colyseus-backend:latest' }, // the image: built by `lagstorm setup --containers`
  defects: Object.entries(DEFECTS).map(([name, description]) => ({ name, description })),
  selfTestDir: path.join(__dirname, 'self-test'),
});
