/**
 * The images of the containers runtime, one per role, built locally (no registry is reachable):
 * lagstorm/base:bookworm (debootstrap + docker import), then each role's Dockerfile in
 * stack/images/<role>/ on top of it. Every image carries a label with the hash of its Dockerfile
 * folder, its staged inputs and its base, so an unchanged image is never rebuilt.
 *
 * A role's image can be replaced (LAGSTORM_IMAGE_<ROLE>, e.g. LAGSTORM_IMAGE_POSTGRES) by any
 * image honouring the same contract (the env variables in that role's Dockerfile / entrypoint).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { HarnessError } from '../../core/exit-codes';
import { TOOLS_BIN, TOXIPROXY_VERSION } from '../tools/catalog';
import { TOOLS_HOME } from '../tools-path';
import { BASE_IMAGE, ensureBaseImage } from './base-image';
import { HASH_LABEL, fileSha256, imageHash, runLogged, sha256 } from './docker-cli';
import { DOCKERD_PID_FILE, engineStatus, ensureEngine, type EngineStatus } from './engine';
import { sourceClosure } from './source-closure';

const exec = promisify(execFile);

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
const IMAGES_DIR = __dirname;

export const ROLES = ['postgres', 'toxiproxy', 'prometheus', 'reference-backend', 'colyseus-backend', 'agent'] as const;
export type ImageRole = (typeof ROLES)[number];

/** The image lagstorm builds for each role. */
export const IMAGES: Record<ImageRole, string> = {
  postgres: 'lagstorm/postgres:15',
  toxiproxy: `lagstorm/toxiproxy:${TOXIPROXY_VERSION.replace(/^v/, '')}`,
  prometheus: 'lagstorm/prometheus:bookworm',
  'reference-backend': 'lagstorm/reference-backend:latest',
  'colyseus-backend': 'lagstorm/colyseus-backend:latest',
  agent: 'lagstorm/agent:latest',
};

/** The entry point each bundled game backend's image runs (the same file its `server.entry` names). */
const BACKEND_ENTRIES: Partial<Record<ImageRole, string>> = {
  'reference-backend': 'games/reference/server/main.ts',
  'colyseus-backend': 'games/colyseus/server/main.ts',
};

/** What `lagstorm agent` loads: the CLI, the fleet's worker thread and the bundled games (loaded by path, so the import walk misses them), and the plug-in API a game of your own imports as 'lagstorm'. */
const AGENT_ENTRIES = ['bin/lagstorm.js', 'bots/fleet/worker.ts', 'games/reference/index.ts', 'games/colyseus/index.ts', 'core/index.ts'];

/** The image to run for a role: LAGSTORM_IMAGE_<ROLE> (e.g. a registry's image) wins over lagstorm's own. */
export function imageFor(role: ImageRole, env: NodeJS.ProcessEnv = process.env): string {
  return env[`LAGSTORM_IMAGE_${role.toUpperCase().replace(/-/g, '_')}`] || IMAGES[role];
}

/** An image a game or scenario names: one of lagstorm's own follows its role's LAGSTORM_IMAGE_<ROLE>; any other is used as is. */
export function resolveImage(image: string, env: NodeJS.ProcessEnv = process.env): string {
  const role = ROLES.find((candidate) => IMAGES[candidate] === image);
  return role ? imageFor(role, env) : image;
}

/** A staged input: copied from `source` to `dest` (relative to the build context). */
interface Input {
  dest: string;
  source: string;
  /** Hash of the content when hashing the file itself would be wasteful (node_modules: the lock file). */
  hash?: string;
  /** Fills `dest` itself instead of a plain copy. */
  stage?: (dest: string) => Promise<void>;
}

function toolInput(name: string): Input {
  const source = path.join(TOOLS_BIN, name);
  if (!fs.existsSync(source)) throw new HarnessError(`${source} is missing; run \`lagstorm setup\` first (it builds ${name})`);
  return { dest: name, source };
}

/** Production node_modules, as `npm ci --omit=dev` makes them from the lock file (from npm's cache when it can). */
function nodeModulesInput(): Input {
  const lock = path.join(REPO_ROOT, 'package-lock.json');
  return {
    dest: 'node_modules',
    source: lock,
    hash: sha256('npm ci --omit=dev', fs.readFileSync(lock), fs.readFileSync(path.join(REPO_ROOT, 'package.json'))),
    stage: async (dest) => {
      const work = path.dirname(dest);
      for (const file of ['package.json', 'package-lock.json']) fs.copyFileSync(path.join(REPO_ROOT, file), path.join(work, file));
      try {
        await exec('npm', ['ci', '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: work, timeout: 600_000, maxBuffer: 64 * 1024 * 1024 });
      } catch (error) {
        throw new HarnessError(`npm ci --omit=dev for the backend image failed: ${((error as { stderr?: string }).stderr ?? (error as Error).message).trim().split('\n').slice(-3).join(' ')}`);
      }
      for (const file of ['package.json', 'package-lock.json']) fs.rmSync(path.join(work, file));
    },
  };
}

/** What each role's build context holds besides its own folder. */
function inputsOf(role: ImageRole): Input[] {
  switch (role) {
    case 'postgres':
    case 'prometheus':
      return [];
    case 'toxiproxy':
      return [toolInput('toxiproxy-server')];
    case 'reference-backend':
    case 'colyseus-backend':
      return nodeAppInputs(['bin/run-ts.js', BACKEND_ENTRIES[role]!]);
    case 'agent':
      return nodeAppInputs(AGENT_ENTRIES);
  }
}

/** Node, production node_modules and the repo files `entries` import, under app/. */
function nodeAppInputs(entries: string[]): Input[] {
  const files = ['package.json', 'tsconfig.json', ...sourceClosure(REPO_ROOT, entries)];
  return [{ dest: 'node', source: process.execPath }, nodeModulesInput(), ...files.map((file) => ({ dest: path.join('app', file), source: path.join(REPO_ROOT, file) }))];
}

function roleDirFiles(role: ImageRole): string[] {
  return fs.readdirSync(path.join(IMAGES_DIR, role)).sort();
}

/** The content hash an up-to-date image of `role` carries. */
export function roleHash(role: ImageRole, baseHash: string, inputs: Input[] = inputsOf(role)): string {
  const dir = path.join(IMAGES_DIR, role);
  const own = roleDirFiles(role).map((file) => `${file}:${fileSha256(path.join(dir, file))}`);
  const staged = inputs.map((input) => `${input.dest}:${input.hash ?? fileSha256(input.source)}`).sort();
  return sha256(baseHash, ...own, ...staged);
}

async function buildRole(role: ImageRole, hash: string, inputs: Input[], logDir: string): Promise<void> {
  const context = fs.mkdtempSync(path.join(os.tmpdir(), `lagstorm-image-${role}-`));
  try {
    for (const file of roleDirFiles(role)) fs.copyFileSync(path.join(IMAGES_DIR, role, file), path.join(context, file));
    for (const input of inputs) {
      const dest = path.join(context, input.dest);
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      if (input.stage) await input.stage(dest);
      else fs.copyFileSync(input.source, dest);
    }
    // Host networking for RUN steps: there is no bridge, and apt must reach the host's mirror.
    await runLogged('docker', ['build', '--network', 'host', '--label', `${HASH_LABEL}=${hash}`, '-t', IMAGES[role], context], path.join(logDir, `${role}.log`), `docker build ${IMAGES[role]}`);
  } finally {
    fs.rmSync(context, { recursive: true, force: true });
  }
}

export interface ImageReport {
  image: string;
  /** built now, or already up to date. */
  action: 'built' | 'cached';
  seconds: number;
}

export interface EnsureImagesOptions {
  log?: (line: string) => void;
  /** Which roles (default: all); the base image is always ensured. */
  roles?: readonly ImageRole[];
  /** Build logs go here (default: the tools cache's images/logs, .tools/images/logs in this repo). */
  logDir?: string;
}

/**
 * Starts the engine when needed, then builds every image that is missing or out of date.
 * A second call with nothing changed only compares hash labels (seconds).
 */
export async function ensureImages(options: EnsureImagesOptions = {}): Promise<ImageReport[]> {
  const log = options.log ?? (() => undefined);
  const logDir = options.logDir ?? path.join(TOOLS_HOME, 'images', 'logs');
  fs.mkdirSync(logDir, { recursive: true });
  await ensureEngine({ log });
  const reports: ImageReport[] = [];
  let started = Date.now();
  const base = await ensureBaseImage({ log, logDir });
  reports.push({ image: BASE_IMAGE, action: base.built ? 'built' : 'cached', seconds: (Date.now() - started) / 1000 });
  for (const role of options.roles ?? ROLES) {
    started = Date.now();
    const inputs = inputsOf(role);
    const hash = roleHash(role, base.hash, inputs);
    const current = await imageHash(IMAGES[role]);
    if (current === hash) {
      reports.push({ image: IMAGES[role], action: 'cached', seconds: (Date.now() - started) / 1000 });
      continue;
    }
    log(`building ${IMAGES[role]} (${current ? 'inputs changed' : 'not built yet'}; log ${path.join(logDir, `${role}.log`)})`);
    await buildRole(role, hash, inputs, logDir);
    reports.push({ image: IMAGES[role], action: 'built', seconds: (Date.now() - started) / 1000 });
  }
  return reports;
}

export interface ImageStatus {
  image: string;
  present: boolean;
}

/** Which lagstorm images exist locally (for `lagstorm doctor`); empty when no engine answers. */
export async function imageStatuses(): Promise<ImageStatus[]> {
  const images = [BASE_IMAGE, ...ROLES.map((role) => IMAGES[role])];
  return Promise.all(images.map(async (image) => ({ image, present: (await imageHash(image)) !== undefined })));
}

/** The `lagstorm doctor` lines about the containers runtime: the engine, then each image. */
export async function containersReport(): Promise<{ engine: EngineStatus; images: ImageStatus[]; text: string }> {
  const engine = await engineStatus();
  const images = engine.answers ? await imageStatuses() : [];
  const engineLine = engine.answers
    ? `ok       docker engine ${engine.version}${engine.pid ? ` (dockerd pid ${engine.pid}, started by lagstorm setup; pid file ${DOCKERD_PID_FILE})` : ''}`
    : `missing  docker engine: ${engine.reason ?? 'no answer'}; run \`lagstorm setup --containers\``;
  const imageLines = images.map((s) => `${s.present ? 'ok      ' : 'missing '} image ${s.image}${s.present ? '' : '  (lagstorm setup --containers)'}`);
  return { engine, images, text: ['containers runtime:', engineLine, ...imageLines].map((line, i) => (i ? `  ${line}` : line)).join('\n') };
}
