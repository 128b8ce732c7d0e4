/** Did it bite: each fault family's judge on measured observations and the bots' window, and the judging of a run's records. */
import type { HistoryEntry } from '../core/history';
import type { FaultRecord } from '../core/summary';
import { botsWindow, judgeFaults } from './efficacy';
import type { BotsWindow } from './fault';
import { defaultRegistry } from './registry';
import { bytesBetween, countEstablished, parseSocketBytes } from './toxiproxy/link-evidence';

const quiet: BotsWindow = { actions: { ok: 40, fail: 0, info: 0 }, linksLost: 0, loginsFailed: 0, closes: 0 };

/** The registered fault's judge, with params parsed (defaults filled) as the nemesis does. */
function judge(type: string, params: Record<string, unknown>, observations: Record<string, number | string>, bots?: BotsWindow) {
  return defaultRegistry.get(type).judge({ params: defaultRegistry.parse(type, params), observations, ...(bots ? { bots } : {}) });
}

describe('every registered fault states what proves it bit', () => {
  it.each(defaultRegistry.types())('%s has a proof naming a measurement', (type) => {
    expect(defaultRegistry.get(type).proof.length).toBeGreaterThan(20);
  });
});

describe('toxiproxy family', () => {
  const link = { proxy: 'bots-backend', streams: 'downstream' };

  it('a data toxic bit when bytes entered its stream while it was on, and not on an idle link', () => {
    expect(judge('latency', { latency: 150 }, { ...link, bytesThroughLink: 12_800 })).toEqual({ bit: true, effect: '12.5 KB crossed bots-backend while delayed by 150 ms (downstream)' });
    expect(judge('latency', { latency: 150 }, { ...link, bytesThroughLink: 0 })).toEqual({ bit: false, effect: 'no data crossed bots-backend while the toxic was on' });
    expect(judge('bandwidth', { rate: 32 }, { ...link, bytesThroughLink: 900 }).effect).toBe('900 B crossed bots-backend while capped at 32 KB/s (downstream)');
    expect(judge('slicer', {}, { ...link, bytesThroughLink: 0 }).bit).toBe(false);
    expect(judge('timeout', {}, { ...link, bytesThroughLink: 64 }).effect).toBe('64 B crossed bots-backend while data was held back (downstream)');
  });

  it('without byte counters it cannot prove an effect, and a 0 ms latency never bites', () => {
    expect(judge('latency', {}, { ...link, trafficNotMeasured: 'could not run `ss`' })).toEqual({ bit: false, effect: 'not measured: could not run `ss`' });
    expect(judge('latency', { latency: 0 }, { ...link, bytesThroughLink: 5000 })).toEqual({ bit: false, effect: 'a 0 ms latency with 0 jitter delays nothing' });
  });

  it('link-down bit when it cut open connections or the bots saw the link gone', () => {
    expect(judge('link-down', {}, { proxy: 'bots-backend', connectionsCut: 12 }, quiet)).toMatchObject({ bit: true, effect: expect.stringMatching(/^12 open connections cut; bots lost 0 links/) });
    expect(judge('link-down', {}, { proxy: 'bots-backend', connectionsCut: 0 }, { ...quiet, loginsFailed: 3 }).bit).toBe(true);
    expect(judge('link-down', { link: 'backend-db' }, { proxy: 'backend-db', connectionsCut: 0 }, { ...quiet, actions: { ok: 3, fail: 2, info: 1 } })).toEqual({
      bit: true,
      effect: '0 open connections cut; 3 bot actions failed or unknown in the window (2 fail, 1 info)',
    });
    expect(judge('link-down', { link: 'backend-db' }, { proxy: 'backend-db', connectionsCut: 0 }, quiet).bit).toBe(false);
    expect(judge('link-down', {}, { proxy: 'bots-backend' }).bit).toBe(false);
  });

  it('connection toxics bit when the bots saw connections reset or closed', () => {
    expect(judge('reset-peer', {}, link, { ...quiet, linksLost: 4 })).toEqual({ bit: true, effect: 'bots lost 4 links and 0 logins failed in the window' });
    expect(judge('reset-peer', {}, link, quiet).bit).toBe(false);
    expect(judge('limit-data', { link: 'backend-db' }, link, { ...quiet, actions: { ok: 0, fail: 0, info: 2 } }).bit).toBe(true);
    expect(judge('limit-data', {}, link).effect).toMatch(/no bots played/);
    expect(judge('slow-close', {}, link, { ...quiet, closes: 2 })).toEqual({ bit: true, effect: '2 bot connections closed while closes were delayed 1000 ms' });
    expect(judge('slow-close', {}, link, quiet).bit).toBe(false);
  });
});

describe('what the link faults read from the kernel', () => {
  // Two sockets accepted on port 42873 as `ss -tinH` prints them (tcp_info line shortened).
  const ss = (a: number, b: number) =>
    [
      `0      0      127.0.0.1:42873 127.0.0.1:51556`,
      `\t cubic wscale:10,10 rto:204 bytes_sent:${a} bytes_acked:${a} bytes_received:${a} segs_out:2`,
      `0      0      127.0.0.1:42873 127.0.0.1:51570`,
      `\t cubic wscale:10,10 rto:204 bytes_sent:${b} bytes_acked:${b} bytes_received:${b} segs_out:2`,
    ].join('\n');

  it('sums the bytes received and acknowledged per connection, and counts a connection opened in between whole', () => {
    const before = parseSocketBytes(ss(5, 7));
    expect([...before.values()]).toEqual([10, 14]);
    expect(bytesBetween(before, parseSocketBytes(ss(5, 7)))).toBe(0);
    expect(bytesBetween(before, parseSocketBytes(ss(105, 7)))).toBe(200);
    expect(bytesBetween(new Map(), parseSocketBytes(ss(1, 2)))).toBe(6);
  });

  it('counts ESTABLISHED rows accepted on a port in /proc/net/tcp', () => {
    const table = [
      '  sl  local_address rem_address   st tx_queue rx_queue',
      '   0: 0100007F:A769 00000000:0000 0A 00000000:00000000', // the listener
      '   1: 0100007F:A769 0100007F:C964 01 00000000:00000000', // accepted, established
      '   2: 0100007F:C964 0100007F:A769 01 00000000:00000000', // the client's end
      '   3: 0100007F:A769 0100007F:C970 06 00000000:00000000', // TIME_WAIT
    ].join('\n');
    expect(countEstablished(table, 0xa769)).toBe(1);
  });
});

describe('kernel family', () => {
  it('kernel-packet-loss bit when its nft rule counted packets', () => {
    expect(judge('kernel-packet-loss', {}, { table: 't', port: 8666, packetsHit: 97 })).toEqual({ bit: true, effect: '97 packets dropped on port 8666' });
    expect(judge('kernel-packet-loss', { action: 'reject' }, { table: 't', port: 8666, packetsHit: 3 }).effect).toBe('3 packets rejected on port 8666');
    expect(judge('kernel-packet-loss', {}, { table: 't', port: 8666, packetsHit: 0 })).toEqual({ bit: false, effect: 'no packet on port 8666 matched while it was on' });
    expect(judge('kernel-packet-loss', {}, { table: 't', port: 8666 }).bit).toBe(false);
  });
});

describe('process family', () => {
  it('an outage bit when the service was measured down and came back as another instance', () => {
    expect(judge('backend-crash', {}, { pidBefore: 'pid 41', pidAfter: 'pid 97', downtimeMs: 3012, stoppedInMs: 2 })).toEqual({ bit: true, effect: 'backend down 3012 ms (pid 41 → pid 97)' });
    expect(judge('postgres-restart', {}, { pidBefore: 'pid 41', pidAfter: 'pid 41', downtimeMs: 5 }).bit).toBe(false);
    expect(judge('toxiproxy-restart', {}, { pidBefore: 'pid 41' })).toEqual({ bit: false, effect: 'toxiproxy was never measured back up' });
  });

  it('backend-pause bit when the backend was measured frozen', () => {
    expect(judge('backend-pause', {}, { pid: 'pid 7', pausedMs: 1500 })).toEqual({ bit: true, effect: 'backend frozen 1500 ms' });
    expect(judge('backend-pause', {}, { pid: 'pid 7' }).bit).toBe(false);
  });
});

describe('wal family', () => {
  it('failing-archiver bit only when archive attempts failed: held with no segment completed, it did not', () => {
    // The studio's 48 s run: held 4 s, nothing archived in that window, so nothing failed.
    expect(judge('failing-archiver', {}, { failedCount: 0, readyFiles: 0, walFilesPiledUp: 0 })).toEqual({
      bit: false,
      effect: 'no archive attempt failed: no WAL segment was completed while it held (0 segments waiting)',
    });
    expect(judge('failing-archiver', {}, { failedCount: 3, readyFiles: 2, walFilesPiledUp: 2 })).toEqual({ bit: true, effect: '3 archive attempts failed; 2 segments waiting, 2 more in pg_wal' });
    expect(judge('failing-archiver', {}, {}).effect).toMatch(/not measured/);
  });

  it('checkpoint-storm, wal-flood and stuck-slot bit on what PostgreSQL counted', () => {
    expect(judge('checkpoint-storm', {}, { checkpointsRequested: 6, checkpointsTimed: 0, checkpointsPerMinute: 30 })).toEqual({ bit: true, effect: '6 requested + 0 timed checkpoints (30/min)' });
    expect(judge('checkpoint-storm', {}, { checkpointsRequested: 0, checkpointsTimed: 0, checkpointsPerMinute: 0 }).bit).toBe(false);
    expect(judge('wal-flood', {}, { walBytes: 40 * 1024 * 1024, walMbPerSecond: 8, fullPageImages: 5000 }).effect).toBe('40.0 MB of WAL at 8 MB/s, 5000 full-page images');
    expect(judge('wal-flood', {}, { table: 't', lastWriterError: 'terminating connection' }).effect).toMatch(/not measured.*terminating connection/);
    expect(judge('stuck-slot', {}, { slot: 's', retainedBytes: 20 * 1024 * 1024, walStatus: 'reserved' })).toEqual({ bit: true, effect: 'the slot pinned 20.0 MB of WAL (wal_status reserved)' });
    expect(judge('stuck-slot', {}, { slot: 's', retainedBytes: 0, walStatus: 'reserved' }).bit).toBe(false);
  });

  it('wal-disk-full bit on the PANIC line; slow-wal-disk on commits at least 2x slower', () => {
    expect(judge('wal-disk-full', {}, { device: '/dev/loop3', sizeMb: 64, panic: 'PANIC: could not write to file', panicAfterMs: 600 }).bit).toBe(true);
    expect(judge('wal-disk-full', {}, { device: '/dev/loop3', sizeMb: 64 }).effect).toBe('no PANIC in the PostgreSQL log: the 64 MB volume did not fill');
    expect(judge('slow-wal-disk', {}, { commitMsBefore: 1.2, commitMsDuring: 97, slowdown: 80.8, verified: 'yes' }).effect).toBe('commits 1.2 ms → 97 ms (x80.8)');
    expect(judge('slow-wal-disk', {}, { commitMsBefore: 1.2, commitMsDuring: 1.3, slowdown: 1.08, verified: 'no' }).bit).toBe(false);
  });
});

describe('botsWindow', () => {
  let index = 0;
  const op = (entry: Record<string, unknown>) => ({ index: index++, ...entry }) as unknown as HistoryEntry;
  const history: HistoryEntry[] = [
    op({ type: 'ok', process: 'b1', player: 'p1', f: 'collect', seq: 1, intendedAt: 900, time: 950 }), // before the window
    op({ type: 'invoke', process: 'b1', player: 'p1', f: 'collect', seq: 2, intendedAt: 1100, time: 1100 }),
    op({ type: 'info', process: 'b1', player: 'p1', f: 'collect', seq: 2, intendedAt: 1100, time: 1500, error: 'link lost' }),
    op({ type: 'fail', process: 'b2', player: 'p2', f: 'buy', seq: 4, intendedAt: 1200, time: 1210, error: 'too poor' }),
    op({ type: 'info', process: 'b1', player: 'p1', f: 'login', intendedAt: 1600, time: 1700, error: 'refused' }),
    op({ type: 'event', process: 'b1', player: 'p1', f: 'reconnected', time: 2600, value: { voluntary: false, resumeMs: 1100 } }), // lost at 1500
    op({ type: 'event', process: 'b3', player: 'p3', f: 'reconnected', time: 1900, value: { voluntary: true, resumeMs: 50 } }),
    op({ type: 'event', process: 'b4', player: 'p4', f: 'session-end', time: 1950 }),
    op({ type: 'ok', process: 'b2', player: 'p2', f: 'buy', seq: 5, intendedAt: 4000, time: 4010 }), // after the window
  ];

  it('counts completions, links lost, failed logins and closes inside [from, to] only', () => {
    expect(botsWindow(history, 1000, 3000)).toEqual({ actions: { ok: 0, fail: 1, info: 1 }, linksLost: 1, loginsFailed: 1, closes: 3 });
    expect(botsWindow(history, 3000, 5000)).toEqual({ actions: { ok: 1, fail: 0, info: 0 }, linksLost: 0, loginsFailed: 0, closes: 0 });
  });

  it('judges each injected fault on its window plus a grace, and leaves a failed inject unjudged', () => {
    const records: FaultRecord[] = [
      { id: 't1', fault: 'reset-peer', params: {}, startedAt: 1000, stoppedAt: 1400, healed: true, observations: { proxy: 'bots-backend' } }, // the loss at 1500 is inside the grace
      { id: 't2', fault: 'reset-peer', params: {}, startedAt: 3000, stoppedAt: 3500, healed: true, observations: { proxy: 'bots-backend' } },
      { id: 't3', fault: 'failing-archiver', params: {}, startedAt: 100, stoppedAt: 200, healed: true, error: 'inject: archive_command is given on the server command line' },
    ];
    const judged = judgeFaults(records, defaultRegistry, history);
    expect(judged.map((r) => r.efficacy?.bit)).toEqual([true, false, undefined]);
    expect(judged[0].efficacy).toEqual({ bit: true, effect: 'bots lost 1 links and 1 logins failed in the window', proof: defaultRegistry.get('reset-peer').proof });
  });
});
