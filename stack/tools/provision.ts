/**
 * `lagstorm doctor` (what is there, with versions) and `lagstorm setup` (install what is missing,
 * idempotently: a second run only probes and takes seconds).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { TOOLS, TOOLS_BIN, type ToolSpec } from './catalog';
import { ensureImages, type ImageReport } from '../images/images';

const exec = promisify(execFile);

export interface ToolStatus {
  name: string;
  purpose: string;
  required: boolean;
  present: boolean;
  path?: string;
  version?: string;
  /** How to get it when missing. */
  remedy?: string;
  /** Present, but not the pinned version `lagstorm setup` builds. */
  outdated?: boolean;
}

async function which(command: string): Promise<string | undefined> {
  if (command.includes('/')) return fs.existsSync(command) ? command : undefined;
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin'])) {
    const candidate = path.join(dir, command);
    if (dir && fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}

function remedy(spec: ToolSpec): string {
  switch (spec.source.kind) {
    case 'apt':
      return `apt-get install -y ${spec.source.package}`;
    case 'go':
      return `GOBIN=${TOOLS_BIN} go install ${spec.source.module}@${spec.source.version} && mv ${TOOLS_BIN}/${spec.source.binary} ${TOOLS_BIN}/${spec.name}`;
    case 'unavailable':
      return `not installable here: ${spec.source.reason}`;
  }
}

export async function probeTool(spec: ToolSpec): Promise<ToolStatus> {
  const base = { name: spec.name, purpose: spec.purpose, required: spec.required };
  for (const candidate of spec.candidates()) {
    const found = await which(candidate);
    if (!found) continue;
    try {
      const { stdout, stderr } = await exec(found, spec.versionArgs, { timeout: 15_000 });
      const version = spec.parseVersion(`${stdout}\n${stderr}`);
      const outdated = spec.source.kind === 'go' && version !== spec.source.version;
      return { ...base, present: true, path: found, version, ...(outdated ? { outdated, remedy: remedy(spec) } : {}) };
    } catch (error) {
      const output = `${(error as { stdout?: string }).stdout ?? ''}${(error as { stderr?: string }).stderr ?? ''}`;
      if (output.trim()) return { ...base, present: true, path: found, version: spec.parseVersion(output) };
    }
  }
  return { ...base, present: false, remedy: remedy(spec) };
}

export async function doctor(tools: ToolSpec[] = TOOLS): Promise<ToolStatus[]> {
  return Promise.all(tools.map(probeTool));
}

export function formatDoctor(statuses: ToolStatus[]): string {
  const rows = statuses.map((s) => [s.outdated ? 'outdated' : s.present ? 'ok' : s.required ? 'MISSING' : 'missing', s.name, s.version ?? '-', s.present ? s.path ?? '' : s.remedy ?? '']);
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i].length), ['status', 'part', 'version'][i].length));
  const line = (cells: string[]) => cells.map((cell, i) => (i < 3 ? cell.padEnd(widths[i]) : cell)).join('  ');
  return [line(['status', 'part', 'version', 'path / how to install']), ...rows.map(line)].join('\n');
}

export interface SetupResult {
  ok: boolean;
  installed: string[];
  /** Exactly what a person must install when we cannot (no root, no Go). */
  manual: string[];
  statuses: ToolStatus[];
  /** With `containers`: each image, built now or already up to date. */
  images?: ImageReport[];
}

export interface SetupOptions {
  log?: (line: string) => void;
  /** Install optional parts too (nft, dockerd); required ones are always installed. */
  all?: boolean;
  /** For tests: the parts to provision (default: all of them). */
  tools?: ToolSpec[];
  /** For tests: pretend (not) to be root. */
  isRoot?: boolean;
  /** For tests: where to look for `go` (default: PATH). */
  goCommand?: string;
  /** Also make the containers runtime ready: docker.io, a running dockerd, lagstorm's images. */
  containers?: boolean;
}

export async function setup(options: SetupOptions = {}): Promise<SetupResult> {
  const log = options.log ?? (() => undefined);
  const installed: string[] = [];
  const manual: string[] = [];
  const tools = options.tools ?? TOOLS;
  const isRoot = options.isRoot ?? process.getuid?.() === 0;
  let statuses = await doctor(tools);
  const wanted = (s: ToolStatus) => (!s.present || s.outdated === true) && (s.required || options.all || s.name === 'nft' || (options.containers === true && s.name === 'dockerd'));
  const missing = tools.filter((spec) => statuses.some((s) => s.name === spec.name && wanted(s)));

  const aptSpecs = missing.filter((spec) => spec.source.kind === 'apt');
  if (aptSpecs.length) {
    const packages = aptSpecs.map((spec) => (spec.source as { package: string }).package);
    if (!isRoot) {
      manual.push(`sudo apt-get update && sudo apt-get install -y ${packages.join(' ')}`);
    } else {
      log(`installing Debian packages: ${packages.join(' ')}`);
      const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
      try {
        await exec('apt-get', ['update', '-qq'], { env, timeout: 600_000 });
        await exec('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], { env, timeout: 1_800_000, maxBuffer: 64 * 1024 * 1024 });
        installed.push(...packages);
      } catch (error) {
        manual.push(`apt-get install -y ${packages.join(' ')}  (failed: ${((error as { stderr?: string }).stderr ?? (error as Error).message).trim().split('\n').slice(-2).join(' ')})`);
      }
    }
  }

  for (const spec of missing.filter((s) => s.source.kind === 'go')) {
    const source = spec.source as Extract<ToolSpec['source'], { kind: 'go' }>;
    const go = await which(options.goCommand ?? 'go');
    if (!go) {
      manual.push(`install Go (https://go.dev/dl), then: ${remedy(spec)}`);
      continue;
    }
    log(`building ${spec.name} ${source.version} with go install (first time only, about a minute)`);
    const buildBin = fs.mkdtempSync(path.join(os.tmpdir(), 'lagstorm-gobin-'));
    try {
      const stamp = source.versionVariable ? ['-ldflags', `-X ${source.versionVariable}=${source.version}`] : [];
      await exec(go, ['install', ...stamp, `${source.module}@${source.version}`], { env: { ...process.env, GOBIN: buildBin, CGO_ENABLED: '0' }, timeout: 900_000 });
      fs.mkdirSync(TOOLS_BIN, { recursive: true });
      fs.copyFileSync(path.join(buildBin, source.binary), path.join(TOOLS_BIN, spec.name));
      fs.chmodSync(path.join(TOOLS_BIN, spec.name), 0o755);
      installed.push(`${spec.name}@${source.version}`);
    } catch (error) {
      manual.push(`${remedy(spec)}  (go install failed: ${((error as { stderr?: string }).stderr ?? (error as Error).message).trim().split('\n').slice(-2).join(' ')})`);
    } finally {
      fs.rmSync(buildBin, { recursive: true, force: true });
    }
  }

  let images: ImageReport[] | undefined;
  if (options.containers && manual.length === 0) {
    try {
      images = await ensureImages({ log });
      installed.push(...images.filter((r) => r.action === 'built').map((r) => r.image));
    } catch (error) {
      manual.push(`the containers runtime is not ready: ${(error as Error).message}`);
    }
  }

  statuses = await doctor(tools);
  const stillMissing = statuses.filter((s) => s.required && !s.present);
  return { ok: stillMissing.length === 0 && manual.length === 0, installed, manual, statuses, ...(images ? { images } : {}) };
}
