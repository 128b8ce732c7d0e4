import { ConfigError, parseConfig } from './config';
import { DEFECTS, parseDefects } from './defects';
import { mergeWrites } from './game-core';
import { parseClientMessage } from './messages';
import { backoffDelay, DEFAULT_RETRY_POLICY } from './retry';
import { newPlayer } from '../rules';

const url = 'postgresql://postgres@127.0.0.1:5432/postgres';

describe('parseConfig', () => {
  it('reads flags, falls back to the environment, applies defaults', () => {
    const config = parseConfig(['--port', '7000', '--admin-port', '7001', '--database-url', url]);
    expect(config).toMatchObject({ port: 7000, adminPort: 7001, databaseUrl: url, maxQueueDepth: 10_000 });
    expect(config.defects.size).toBe(0);
    const fromEnv = parseConfig([], { LAGSTORM_BACKEND_PORT: '7100', LAGSTORM_BACKEND_ADMIN_PORT: '7101', LAGSTORM_BACKEND_DATABASE_URL: url, LAGSTORM_BACKEND_DEFECT: 'no-dedup' });
    expect(fromEnv).toMatchObject({ port: 7100, adminPort: 7101 });
    expect([...fromEnv.defects]).toEqual(['no-dedup']);
  });

  it.each([
    [['--admin-port', '1', '--database-url', url], /--port is required/],
    [['--port', 'abc', '--admin-port', '1', '--database-url', url], /--port must be an integer 0-65535, got 'abc'/],
    [['--port', '70000', '--admin-port', '1', '--database-url', url], /--port must be an integer/],
    [['--port', '5', '--admin-port', '5', '--database-url', url], /must differ/],
    [['--port', '5', '--admin-port', '6'], /--database-url is required/],
    [['--port', '5', '--admin-port', '6', '--database-url', 'mysql://x'], /must start with postgresql/],
    [['--port', '5', '--admin-port', '6', '--database-url', url, '--defect', 'typo'], /unknown defect 'typo': use one of ack-before-commit/],
    [['--port', '5', '--admin-port', '6', '--database-url', url, '--bogus'], /Unknown option '--bogus'/],
  ])('rejects %j', (argv, message) => {
    expect(() => parseConfig(argv, {})).toThrow(ConfigError);
    expect(() => parseConfig(argv, {})).toThrow(message);
  });

  it('retry-storm turns backoff off', () => {
    expect(parseConfig(['--port', '5', '--admin-port', '6', '--database-url', url, '--defect', 'retry-storm'], {}).retry.backoff).toBe(false);
  });
});

describe('defects', () => {
  it('lists the seven planted defects and parses none / lists', () => {
    expect(DEFECTS).toEqual(['ack-before-commit', 'no-dedup', 'nonatomic-gift', 'lost-push', 'retry-storm', 'ipv4-only', 'bank-lost-update']);
    expect(parseDefects('none').size).toBe(0);
    expect([...parseDefects('lost-push, ipv4-only')]).toEqual(['lost-push', 'ipv4-only']);
  });
});

describe('backoffDelay', () => {
  it('grows exponentially, is capped, and is jittered in [0, ceiling)', () => {
    const policy = { ...DEFAULT_RETRY_POLICY, baseMs: 10, capMs: 100 };
    expect([0, 1, 2, 3, 4, 10].map((n) => backoffDelay(n, policy, () => 0.999))).toEqual([9, 19, 39, 79, 99, 99]);
    expect(backoffDelay(3, policy, () => 0)).toBe(0);
    const samples = Array.from({ length: 200 }, () => backoffDelay(2, policy));
    expect(new Set(samples).size).toBeGreaterThan(10);
  });

  it('is zero without backoff (the retry-storm defect)', () => {
    expect(backoffDelay(5, { ...DEFAULT_RETRY_POLICY, backoff: false }, () => 0.9)).toBe(0);
  });
});

describe('parseClientMessage', () => {
  it('accepts the four message types', () => {
    expect(parseClientMessage('{"t":"hello","playerId":"p-1","resumeToken":"abcdefgh"}')).toMatchObject({ ok: true });
    expect(parseClientMessage('{"t":"action","seq":1,"action":{"kind":"gift-send","to":"x","amount":3}}')).toMatchObject({ ok: true });
    expect(parseClientMessage('{"t":"read"}')).toMatchObject({ ok: true });
    expect(parseClientMessage('{"t":"ping","id":4}')).toMatchObject({ ok: true });
  });

  it.each([
    ['not json', /not valid JSON/],
    ['[1]', /JSON object/],
    ['{"t":"dance"}', /unknown message type "dance"/],
    ['{"t":"hello","playerId":""}', /hello: playerId/],
    ['{"t":"hello","playerId":"p","protocol":2}', /protocol 1/],
    ['{"t":"action","seq":0,"action":{"kind":"collect"}}', /action: seq/],
    ['{"t":"action","seq":1.5,"action":{"kind":"collect"}}', /action: seq/],
    ['{"t":"action","seq":1,"action":{"kind":"fly"}}', /action: action.kind/],
    ['{"t":"action","seq":1,"action":{"kind":"buy"}}', /action: action.item/],
  ])('rejects %s', (raw, message) => {
    const parsed = parseClientMessage(raw);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toMatch(message);
  });

  it('keeps the seq of a malformed action so the client can match the error', () => {
    expect(parseClientMessage('{"t":"action","seq":3,"action":{}}')).toMatchObject({ ok: false, seq: 3 });
  });
});

describe('mergeWrites (write-behind defect)', () => {
  it('keeps the first previous version and the last state per player, and all rows', () => {
    const p = newPlayer('p');
    const merged = mergeWrites([
      { created: [], updated: [{ state: { ...p, version: 1 }, previousVersion: 0 }], actions: [{ player: 'p', seq: 1 } as never], ledger: [], gifts: [] },
      { created: [{ state: newPlayer('q'), resumeToken: 't' }], updated: [{ state: { ...p, version: 2 }, previousVersion: 1 }], actions: [{ player: 'p', seq: 2 } as never], ledger: [], gifts: [] },
      { created: [], updated: [{ state: { ...newPlayer('q'), version: 1 }, previousVersion: 0 }], actions: [], ledger: [], gifts: [] },
    ]);
    expect(merged.updated).toEqual([{ state: { ...p, version: 2 }, previousVersion: 0 }]);
    expect(merged.created).toEqual([{ state: { ...newPlayer('q'), version: 1 }, resumeToken: 't' }]);
    expect(merged.actions).toHaveLength(2);
  });
});
