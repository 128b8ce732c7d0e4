/**
 * Validation of client messages (backend/PROTOCOL.md). Anything that does not parse becomes a
 * 'malformed' error naming the bad field; it never reaches the game state.
 */
import { z } from 'zod';
import { PROTOCOL_VERSION, type ClientMessage } from '../rules';

export const PLAYER_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;
export const MAX_SEQ = 2 ** 31 - 1;

const playerId = z.string().regex(PLAYER_ID_PATTERN, 'a player id is 1-64 characters: letters, digits, _ . : - (starting with a letter or digit)');
const action = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('collect') }),
  // Unknown items and bad amounts are game rules (rejected, seq consumed), not malformed messages.
  z.object({ kind: z.literal('buy'), item: z.string().max(64) }),
  z.object({ kind: z.literal('upgrade') }),
  z.object({ kind: z.literal('gift-send'), to: z.string().max(64), amount: z.number().finite().min(-1e12).max(1e12) }),
  z.object({ kind: z.literal('guild-deposit'), guild: z.string().max(64), amount: z.number().finite().min(-1e12).max(1e12) }),
  z.object({ kind: z.literal('guild-withdraw'), guild: z.string().max(64), amount: z.number().finite().min(-1e12).max(1e12) }),
]);

const clientMessage = z.discriminatedUnion('t', [
  z.object({
    t: z.literal('hello'),
    playerId,
    resumeToken: z.string().min(8, 'a resume token has at least 8 characters').max(128).optional(),
    protocol: z.literal(PROTOCOL_VERSION, `this server speaks protocol ${PROTOCOL_VERSION}`).optional(),
  }),
  z.object({ t: z.literal('action'), seq: z.number().int().min(1).max(MAX_SEQ), action }),
  z.object({ t: z.literal('read') }),
  z.object({ t: z.literal('ping'), id: z.number().finite() }),
]);

export type ParsedMessage = { ok: true; message: ClientMessage } | { ok: false; error: string; seq?: number };

const KNOWN_TYPES = ['hello', 'action', 'read', 'ping'];

export function parseClientMessage(raw: string): ParsedMessage {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return { ok: false, error: 'message is not valid JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, error: 'message must be a JSON object with a "t" field' };
  const t = (value as { t?: unknown }).t;
  if (typeof t !== 'string' || !KNOWN_TYPES.includes(t)) {
    return { ok: false, error: `unknown message type ${JSON.stringify(t)}: expected one of ${KNOWN_TYPES.join(', ')}` };
  }
  const parsed = clientMessage.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? issue.path.join('.') : '(message)';
    const seq = (value as { seq?: unknown }).seq;
    return { ok: false, error: `${t}: ${where}: ${issue?.message ?? 'invalid'}`, seq: typeof seq === 'number' ? seq : undefined };
  }
  return { ok: true, message: parsed.data as ClientMessage };
}
