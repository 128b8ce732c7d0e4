/**
 * What a link's faults measure: bytes that entered the proxy while a toxic was on (Toxiproxy's
 * `-proxy-metrics` counters), connections open through the proxy when it was cut (the kernel's
 * socket table, no root needed), and the judges shared by the family.
 */
import fs from 'node:fs';
import type { LinkName } from '../../stack/types';
import type { ToxiproxyApi } from '../../stack/toxiproxy-api';
import type { BotsWindow, Efficacy } from '../fault';

export type Stream = 'upstream' | 'downstream';

/** Bytes received so far on the given streams of a proxy; undefined without Toxiproxy metrics or when the call fails. */
export async function streamBytes(api: ToxiproxyApi, proxy: string, streams: readonly Stream[]): Promise<number | undefined> {
  const received = await api.receivedBytes(proxy).catch(() => undefined);
  return received && streams.reduce((sum, stream) => sum + received[stream], 0);
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

/** A toxic that acts on data bites when data entered its stream(s) while it was on. */
export function judgeDataToxic(observations: Readonly<Record<string, number | string>>, what: string): Efficacy {
  const bytes = observations.bytesThroughToxic;
  if (typeof bytes !== 'number') return { bit: false, effect: `not measured: ${observations.trafficNotMeasured ?? 'Toxiproxy gave no byte counters'}` };
  if (bytes <= 0) return { bit: false, effect: `no data crossed ${observations.proxy} (${observations.streams}) while the toxic was on` };
  return { bit: true, effect: `${formatBytes(bytes)} ${what} on ${observations.proxy} (${observations.streams})` };
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
