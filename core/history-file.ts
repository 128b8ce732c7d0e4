/**
 * The history on disk (and, later, on the wire from agents): compact rows in a gzip stream.
 *
 * `history.jsonl.gz` is gzip (`zcat` reads it) of JSON lines: a header object, then one JSON
 * array per entry, `[type, process, f, dtMicros, rest?]`: type 0 invoke, 1 ok, 2 fail, 3 info,
 * 4 event; process and f are a number (a string seen before, counted from 0 in order of first
 * appearance) or the string itself the first time; dtMicros is the entry's time minus the
 * previous entry's, in µs; rest holds the other fields under short keys (see `REST_KEYS`).
 * The index is the row's position. `lagstorm history cat <run>` prints the plain JSON lines.
 * Older runs wrote plain JSON lines to `history.jsonl`; `readHistory` reads both.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import type { Readable } from 'node:stream';
import type { HistoryEntry } from './history';

/** The history file a run writes. */
export const HISTORY_FILE = 'history.jsonl.gz';
/** What runs wrote before the compact format (plain JSON lines, one entry each). */
export const LEGACY_HISTORY_FILE = 'history.jsonl';
/** The first line of a compact history. */
export const COMPACT_HEADER = { lagstorm: 'history', encoding: 'compact-1', row: '[type, process, f, dtMicros, rest?]', help: 'lagstorm history cat <run> prints plain JSON lines' } as const;

const TYPES = ['invoke', 'ok', 'fail', 'info', 'event'] as const;
const TYPE_CODES: Record<string, number> = Object.fromEntries(TYPES.map((type, i) => [type, i]));

/** Short keys of a row's `rest` object. */
const REST_KEYS = {
  /** player, when it is not the process; null: the entry has no player (the nemesis). */
  player: 'y',
  seq: 's',
  value: 'v',
  /** time − intendedAt, in µs. */
  intendedAt: 'a',
  version: 'n',
  checksum: 'c',
  error: 'e',
} as const;
/** Fields kept as they are when they do not fit the compact forms: an exact time, another index, unknown fields. */
const RAW = { time: 'T', intendedAt: 'A', index: 'i', extra: 'x' } as const;
const KNOWN = new Set(['index', 'type', 'process', 'player', 'f', 'seq', 'value', 'intendedAt', 'time', 'version', 'checksum', 'error']);

/** ms → µs when the value has at most 3 decimals (every time the harness writes), else undefined. */
function micros(ms: number): number | undefined {
  const us = Math.round(ms * 1000);
  return Number.isSafeInteger(us) && us / 1000 === ms ? us : undefined;
}

type Row = [number, number | string, number | string, number, Record<string, unknown>?];

/** Entries → compact rows, one stateful stream (string table, previous time, next index). */
export class CompactHistoryEncoder {
  private readonly ids = new Map<string, number>();
  private previousMicros = 0;
  private nextIndex = 0;

  private ref(text: string): number | string {
    const id = this.ids.get(text);
    if (id !== undefined) return id;
    this.ids.set(text, this.ids.size);
    return text;
  }

  /** The header line, without a newline. */
  header(): string {
    return JSON.stringify(COMPACT_HEADER);
  }

  /** One entry as one line, without a newline. */
  encode(entry: HistoryEntry): string {
    const e = entry as unknown as Record<string, unknown>;
    const rest: Record<string, unknown> = {};
    const type = TYPE_CODES[e.type as string];
    if (type === undefined) throw new Error(`history entry ${String(e.index)}: unknown type ${JSON.stringify(e.type)}`);
    const process = String(e.process);
    // Refs in the decoder's order: process, f, then player.
    const row: Row = [type, this.ref(process), this.ref(String(e.f)), 0];
    if (e.index !== this.nextIndex) rest[RAW.index] = e.index;
    this.nextIndex = (typeof e.index === 'number' ? e.index : this.nextIndex) + 1;
    const time = e.time as number;
    const timeMicros = micros(time);
    if (timeMicros === undefined) rest[RAW.time] = time;
    else {
      row[3] = timeMicros - this.previousMicros;
      this.previousMicros = timeMicros;
    }
    if (e.player === undefined) rest[REST_KEYS.player] = null;
    else if (e.player !== process) rest[REST_KEYS.player] = this.ref(String(e.player));
    if (e.seq !== undefined) rest[REST_KEYS.seq] = e.seq;
    if (e.value !== undefined) rest[REST_KEYS.value] = e.value;
    if (e.intendedAt !== undefined) {
      const intendedMicros = timeMicros !== undefined ? micros(e.intendedAt as number) : undefined;
      if (intendedMicros !== undefined && timeMicros !== undefined) rest[REST_KEYS.intendedAt] = timeMicros - intendedMicros;
      else rest[RAW.intendedAt] = e.intendedAt;
    }
    if (e.version !== undefined) rest[REST_KEYS.version] = e.version;
    if (e.checksum !== undefined) rest[REST_KEYS.checksum] = e.checksum;
    if (e.error !== undefined) rest[REST_KEYS.error] = e.error;
    let extra: Record<string, unknown> | undefined;
    for (const key of Object.keys(e)) if (!KNOWN.has(key) && e[key] !== undefined) (extra ??= {})[key] = e[key];
    if (extra) rest[RAW.extra] = extra;
    for (const _ in rest) {
      row.push(rest);
      break;
    }
    return JSON.stringify(row);
  }
}

/** Compact rows → entries; mirrors the encoder's state. */
export class CompactHistoryDecoder {
  private readonly strings: string[] = [];
  private previousMicros = 0;
  private nextIndex = 0;

  private text(ref: unknown): string {
    if (typeof ref === 'string') {
      this.strings.push(ref);
      return ref;
    }
    const text = this.strings[ref as number];
    if (text === undefined) throw new Error(`string #${String(ref)} used before it was defined`);
    return text;
  }

  decode(row: unknown): HistoryEntry {
    if (!Array.isArray(row) || row.length < 4) throw new Error('not a compact history row ([type, process, f, dtMicros, rest?])');
    const [typeCode, processRef, fRef, dt, rest = {}] = row as Row;
    const r = rest as Record<string, unknown>;
    const type = TYPES[typeCode];
    if (type === undefined) throw new Error(`unknown type code ${String(typeCode)}`);
    const process = this.text(processRef);
    const f = this.text(fRef);
    const index = typeof r[RAW.index] === 'number' ? (r[RAW.index] as number) : this.nextIndex;
    this.nextIndex = index + 1;
    let time: number;
    if (r[RAW.time] !== undefined) time = r[RAW.time] as number;
    else {
      this.previousMicros += dt;
      time = this.previousMicros / 1000;
    }
    const entry: Record<string, unknown> = { index, type, process };
    const player = r[REST_KEYS.player];
    if (player === undefined) entry.player = process;
    else if (player !== null) entry.player = this.text(player);
    entry.f = f;
    if (r[REST_KEYS.seq] !== undefined) entry.seq = r[REST_KEYS.seq];
    // Keys in the order the recorder writes them: ops have value, intendedAt, time; events and faults time, value.
    const op = r[REST_KEYS.intendedAt] !== undefined || r[RAW.intendedAt] !== undefined;
    if (!op) entry.time = time;
    if (r[REST_KEYS.value] !== undefined) entry.value = r[REST_KEYS.value];
    if (r[REST_KEYS.intendedAt] !== undefined) entry.intendedAt = (this.previousMicros - (r[REST_KEYS.intendedAt] as number)) / 1000;
    else if (r[RAW.intendedAt] !== undefined) entry.intendedAt = r[RAW.intendedAt];
    if (op) entry.time = time;
    if (r[REST_KEYS.version] !== undefined) entry.version = r[REST_KEYS.version];
    if (r[REST_KEYS.checksum] !== undefined) entry.checksum = r[REST_KEYS.checksum];
    if (r[REST_KEYS.error] !== undefined) entry.error = r[REST_KEYS.error];
    if (r[RAW.extra] !== undefined) Object.assign(entry, r[RAW.extra]);
    return entry as unknown as HistoryEntry;
  }
}

export type HistoryEncoding = 'compact-gzip' | 'jsonl';

export interface HistoryWriterOptions {
  /** `compact-gzip` (what runs write) or `jsonl` (plain, one entry per line, as before). */
  encoding?: HistoryEncoding;
  /** gzip level 1-9 (default 6). */
  level?: number;
}

/**
 * Appends entries to a history file. Compression runs on libuv's thread pool (async zlib), so
 * the caller's thread only encodes; `flush()` makes everything appended so far decodable on disk.
 */
export class HistoryWriter {
  readonly path: string;
  readonly encoding: HistoryEncoding;
  private readonly encoder = new CompactHistoryEncoder();
  private readonly gzip?: zlib.Gzip;
  private readonly fd?: number;
  private readonly file?: fs.WriteStream;
  private failure?: Error;
  private closing?: Promise<void>;

  constructor(file: string, options: HistoryWriterOptions = {}) {
    this.path = file;
    this.encoding = options.encoding ?? 'compact-gzip';
    if (this.encoding === 'jsonl') {
      this.fd = fs.openSync(file, 'a');
      return;
    }
    this.gzip = zlib.createGzip({ level: options.level ?? 6 });
    this.file = fs.createWriteStream(file, { flags: 'w' });
    this.gzip.on('error', (error) => (this.failure ??= error));
    this.file.on('error', (error) => (this.failure ??= error));
    this.gzip.pipe(this.file);
    this.gzip.write(this.encoder.header() + '\n');
  }

  /** Entries with their final index, in index order. */
  write(entries: readonly HistoryEntry[]): void {
    if (this.failure) throw new Error(`history ${this.path} cannot be written: ${this.failure.message}`);
    if (entries.length === 0) return;
    if (this.fd !== undefined) {
      fs.writeSync(this.fd, entries.map((entry) => JSON.stringify(entry)).join('\n') + '\n');
      return;
    }
    let chunk = '';
    for (const entry of entries) chunk += this.encoder.encode(entry) + '\n';
    this.gzip!.write(chunk);
  }

  /** Pushes what was written through the compressor (a sync flush: the file decodes up to here). */
  flush(): void {
    this.gzip?.flush(zlib.constants.Z_SYNC_FLUSH);
  }

  /** Ends the stream and waits until the file is complete. Idempotent. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve, reject) => {
      if (this.fd !== undefined) {
        fs.closeSync(this.fd);
        return resolve();
      }
      this.file!.once('close', () => (this.failure ? reject(this.failure) : resolve()));
      this.file!.once('error', reject);
      this.gzip!.end();
    });
    return this.closing;
  }
}

/** The history file of a run folder (the compact one, else an older run's plain one); a file path is returned as it is. */
export function historyFileOf(runDirOrFile: string): string {
  if (!fs.existsSync(runDirOrFile)) throw new Error(`${runDirOrFile} not found: pass a run folder (runs/<id>, runs/latest) or its history file`);
  if (!fs.statSync(runDirOrFile).isDirectory()) return runDirOrFile;
  for (const name of [HISTORY_FILE, LEGACY_HISTORY_FILE]) {
    const file = path.join(runDirOrFile, name);
    if (fs.existsSync(file)) return file;
  }
  throw new Error(`${runDirOrFile} has no ${HISTORY_FILE} (nor an older run's ${LEGACY_HISTORY_FILE}): is it a run folder?`);
}

function isGzip(file: string): boolean {
  const fd = fs.openSync(file, 'r');
  try {
    const magic = Buffer.alloc(2);
    return fs.readSync(fd, magic, 0, 2, 0) === 2 && magic[0] === 0x1f && magic[1] === 0x8b;
  } finally {
    fs.closeSync(fd);
  }
}

/** Turns the lines of one history file into entries: a plain entry per line, or the compact header and rows. */
class HistoryLineParser {
  private decoder?: CompactHistoryDecoder;
  lineNumber = 0;

  constructor(private readonly file: string) {}

  parse(line: string): HistoryEntry | undefined {
    this.lineNumber += 1;
    if (line.trim() === '') return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
      if (this.lineNumber === 1 && (parsed as { lagstorm?: unknown }).lagstorm === 'history') {
        const encoding = (parsed as { encoding?: unknown }).encoding;
        if (encoding !== COMPACT_HEADER.encoding) throw new Error(`encoding ${JSON.stringify(encoding)} is newer than this lagstorm reads (${COMPACT_HEADER.encoding}); upgrade lagstorm`);
        this.decoder = new CompactHistoryDecoder();
        return undefined;
      }
    } catch (error) {
      throw new Error(`${this.file}:${this.lineNumber}: not a JSON history entry (${(error as Error).message})`);
    }
    if (!this.decoder) return parsed as HistoryEntry;
    try {
      return this.decoder.decode(parsed);
    } catch (error) {
      throw new Error(`${this.file}:${this.lineNumber}: ${(error as Error).message}`);
    }
  }
}

/**
 * Streams a history in batches (one per chunk read, bounded memory for long runs): a run folder
 * or a history file, compact or plain JSON lines, gzip or not. Every reader goes through this.
 */
export async function* readHistoryBatches(runDirOrFile: string): AsyncGenerator<HistoryEntry[]> {
  const file = historyFileOf(runDirOrFile);
  let input: Readable = fs.createReadStream(file, { highWaterMark: 1 << 16 });
  if (isGzip(file)) {
    const gunzip = zlib.createGunzip();
    input.on('error', (error) => gunzip.destroy(error));
    input = input.pipe(gunzip);
  }
  input.setEncoding('utf8');
  const parser = new HistoryLineParser(file);
  let rest = '';
  try {
    for await (const chunk of input as AsyncIterable<string>) {
      const text = rest + chunk;
      const batch: HistoryEntry[] = [];
      let start = 0;
      for (let end = text.indexOf('\n'); end >= 0; end = text.indexOf('\n', start)) {
        const entry = parser.parse(text.slice(start, end));
        if (entry) batch.push(entry);
        start = end + 1;
      }
      rest = text.slice(start);
      if (batch.length) yield batch;
    }
    const last = rest ? parser.parse(rest) : undefined; // a last line without a newline
    if (last) yield [last];
  } catch (error) {
    if ((error as { code?: string }).code === 'Z_BUF_ERROR') throw new Error(`${file} ends early (the run was killed before its history was closed): ${parser.lineNumber} lines were readable`);
    throw error;
  } finally {
    input.destroy();
  }
}

/** Streams a history entry by entry (see readHistoryBatches). */
export async function* readHistory(runDirOrFile: string): AsyncGenerator<HistoryEntry> {
  for await (const batch of readHistoryBatches(runDirOrFile)) yield* batch;
}

/** Reads the whole history into memory (the verdict, tests and small runs). */
export async function readHistoryAll(runDirOrFile: string): Promise<HistoryEntry[]> {
  const entries: HistoryEntry[] = [];
  for await (const batch of readHistoryBatches(runDirOrFile)) for (const entry of batch) entries.push(entry);
  return entries;
}
