/**
 * What a link's faults measure: the bytes the proxy's client connections carried while a toxic was
 * on (the kernel's per-socket counters through `ss`: Toxiproxy's own byte counters only move when a
 * connection closes, useless for long-lived WebSockets), the connections open through the proxy
 * when it was cut (the kernel's socket table), and the judges the family shares. No root needed.
 */
import fs from 'node:fs';
import type { LinkName } from '../../stack/types';
import type { BotsWindow, Efficacy } from '../fault';
import { runCommand } from '../util';

/** Bytes received + acknowledged so far by each ESTABLISHED socket accepted on a port, keyed by its address pair. */
export type SocketBytes = Map<string, number>;

/** The proxy's client sockets on `port` and their byte counters; undefined when `ss` (iproute2) cannot be run. */
export async function socketBytes(port: number): Promise<SocketBytes | undefined> {
  const result = await runCommand('ss', ['-tinH', 'state', 'established', `( sport = :${port} )`], { timeoutMs: 5000 }).catch(() => undefined);
  return result && parseSocketBytes(result.stdout);
}

/** `ss -tinH` output: a line per socket (Recv-Q Send-Q Local Peer), then an indented line of tcp_info. */
export function parseSocketBytes(output: string): SocketBytes {
  const sockets: SocketBytes = new Map();
  let key: string | undefined;
  for (const line of output.split('\n')) {
    if (line.trim() === '') continue;
    if (!/^\s/.test(line)) {
      const fields = line.trim().split(/\s+/);
      key = fields.length >= 4 ? `${fields[fields.length - 2]} ${fields[fields.length - 1]}` : undefined;
      continue;
    }
    if (!key) continue;
    const counter = (name: string) => Number(new RegExp(`\\b${name}:(\\d+)`).exec(line)?.[1] ?? 0);
    sockets.set(key, counter('bytes_received') + counter('bytes_acked'));
    key = undefined;
  }
  return sockets;
}

/**
 * Watches a port's sockets from now until `stop()`, reading `ss` every `everyMs`: a connection that
 * closes while the toxic is on (a bot that finished and left) still counts what it carried up to
 * its last reading. `stop()` answers the bytes carried, or undefined when `ss` cannot be run.
 */
export async function watchSocketBytes(port: number, everyMs = 500): Promise<{ stop(): Promise<number | undefined> }> {
  const before = await socketBytes(port);
  if (!before) return { stop: async () => undefined };
  const latest: SocketBytes = new Map(before);
  const take = (now: SocketBytes | undefined) => now?.forEach((bytes, key) => latest.set(key, Math.max(bytes, latest.get(key) ?? 0)));
  let timer: NodeJS.Timeout | undefined;
  const sample = (): void => {
    timer = setTimeout(() => void socketBytes(port).then((now) => (take(now), timer && sample())), everyMs);
    timer.unref();
  };
  sample();
  return {
    async stop() {
      clearTimeout(timer);
      timer = undefined;
      take(await socketBytes(port));
      return bytesBetween(before, latest);
    },
  };
}

/** Bytes the sockets alive at `after` carried since `before` (a socket opened in between counts whole). */
export function bytesBetween(before: SocketBytes, after: SocketBytes): number {
  let total = 0;
  for (const [key, bytes] of after) total += Math.max(0, bytes - (before.get(key) ?? 0));
  return total;
}

/** ESTABLISHED TCP connections whose local port is `port` (accepted by a listener on it), from /proc/net/tcp and tcp6. */
export function establishedOnPort(port: number, tables = ['/proc/net/tcp', '/proc/net/tcp6']): number | undefined {
  let count = 0;
  let read = false;
  for (const table of tables) {
    let text: string;
    try {
      text = fs.readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    read = true;
    count += countEstablished(text, port);
  }
  return read ? count : undefined;
}

/** Rows of a /proc/net/tcp table in state 01 (ESTABLISHED) whose local address ends in `port`. */
export function countEstablished(table: string, port: number): number {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  return table
    .split('\n')
    .slice(1)
    .map((row) => row.trim().split(/\s+/))
    .filter((fields) => fields.length > 3 && fields[1].endsWith(`:${hexPort}`) && fields[3] === '01').length;
}

/** The port of a listen address such as '127.0.0.1:8666' or '[::1]:8667'. */
export function listenPort(listen: string): number {
  return Number(listen.slice(listen.lastIndexOf(':') + 1));
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${bytes} B`;
}

/** A toxic that acts on data bit when data crossed its link while it was on. */
export function judgeDataToxic(observations: Readonly<Record<string, number | string>>, what: string): Efficacy {
  const bytes = observations.bytesThroughLink;
  if (typeof bytes !== 'number') return { bit: false, effect: `not measured: ${observations.trafficNotMeasured ?? 'no byte counters for the link'}` };
  if (bytes <= 0) return { bit: false, effect: `no data crossed ${observations.proxy} while the toxic was on` };
  return { bit: true, effect: `${formatBytes(bytes)} crossed ${observations.proxy} while ${what} (${observations.streams})` };
}

/**
 * The bots' view of a link's connections being cut: on a bots link, bots whose link dropped or
 * whose login failed; on backend-db, bots' actions that failed or were left unknown (the backend
 * lost its database). Undefined when no bots played.
 */
export function botsSawCut(link: LinkName, bots: BotsWindow | undefined): { count: number; words: string } | undefined {
  if (!bots) return undefined;
  if (link === 'backend-db') {
    const count = bots.actions.fail + bots.actions.info;
    return { count, words: `${count} bot actions failed or unknown in the window (${bots.actions.fail} fail, ${bots.actions.info} info)` };
  }
  const count = bots.linksLost + bots.loginsFailed;
  return { count, words: `bots lost ${bots.linksLost} links and ${bots.loginsFailed} logins failed in the window` };
}
