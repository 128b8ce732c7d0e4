/** A GameClientContext for the kit's tests and a plug-in's own: real clock, `ws` sockets, records kept. */
import WebSocket from 'ws';
import { systemClock } from '../core/clock';
import type { GameClientContext } from '../core/game';

export function testClientContext(url: string, timing: Partial<GameClientContext['timing']> = {}): GameClientContext & { ops: unknown[] } {
  const ops: unknown[] = [];
  return {
    botId: 'bot-1',
    playerId: 'player-1',
    seed: 1,
    playerSeed: 1,
    url,
    clock: systemClock(Date.now()),
    openWebSocket: (target) => new WebSocket(target, { perMessageDeflate: false }),
    timing: { pingIntervalMs: 5000, pongTimeoutMs: 3000, connectTimeoutMs: 2000, helloTimeoutMs: 2000, actionTimeoutMs: 2000, versionGapTimeoutMs: 2000, ...timing },
    recordOp: (...args) => void ops.push(args),
    recordDesync: (finding) => void ops.push(finding),
    pickPeer: () => undefined,
    ops,
  };
}
