/**
 * lagstorm/base:bookworm: no registry is reachable, so the base of every image is a
 * `debootstrap --variant=minbase bookworm` root file system (from the host's own Debian mirror)
 * imported with `docker import`. The host's apt sources and Acquire:: settings are copied in, so
 * `apt-get install` inside image builds goes the same way the host's does.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { HarnessError } from '../../core/exit-codes';
import { readAptConfig, type AptConfig } from './apt-sources';
import { HASH_LABEL, imageHash, runLogged, sha256 } from './docker-cli';

const exec = promisify(execFile);

export const BASE_IMAGE = 'lagstorm/base:bookworm';
/** Bump when the recipe below changes, so existing base images are rebuilt. */
const RECIPE = 'base-1';

const IMAGE_APT_CONF = [
  'APT::Install-Recommends "false";',
  'APT::Install-Suggests "false";',
  'Dpkg::Use-Pty "false";',
].join('\n');
// Keep images small: no docs or man pages (as Debian's own docker images do).
const DPKG_EXCLUDES = ['path-exclude /usr/share/doc/*', 'path-include /usr/share/doc/*/copyright', 'path-exclude /usr/share/man/*', 'path-exclude /usr/share/locale/*'].join('\n');

export function baseHash(apt: AptConfig): string {
  return sha256(RECIPE, apt.mirror, JSON.stringify(apt.files), JSON.stringify(apt.keyrings), IMAGE_APT_CONF, DPKG_EXCLUDES);
}

/** Unmounts anything debootstrap left mounted below `root` (proc, sys, a bind-mounted /dev) before removal. */
async function removeRootfs(root: string): Promise<void> {
  const mounts = fs.readFileSync('/proc/mounts', 'utf8').split('\n').map((line) => line.split(' ')[1]).filter((m) => m && (m === root || m.startsWith(`${root}/`)));
  for (const mount of mounts.sort().reverse()) await exec('umount', ['-l', mount]).catch(() => undefined);
  // --one-file-system: never descend into something still mounted (a bind-mounted host /dev).
  await exec('rm', ['-rf', '--one-file-system', root]).catch(() => undefined);
}

export interface BaseImageResult {
  built: boolean;
  hash: string;
}

export async function ensureBaseImage(options: { log: (line: string) => void; logDir: string; force?: boolean }): Promise<BaseImageResult> {
  const apt = readAptConfig();
  const hash = baseHash(apt);
  if (!options.force && (await imageHash(BASE_IMAGE)) === hash) return { built: false, hash };
  if (process.getuid?.() !== 0) throw new HarnessError(`building ${BASE_IMAGE} needs root (debootstrap); run \`sudo lagstorm setup --containers\``);
  const debootstrap = ['/usr/sbin/debootstrap', '/usr/bin/debootstrap'].find((p) => fs.existsSync(p));
  if (!debootstrap) {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    options.log('installing Debian debootstrap');
    await exec('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'debootstrap'], { env, timeout: 600_000 }).catch(async () => {
      await exec('apt-get', ['update', '-qq'], { env, timeout: 600_000 });
      await exec('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'debootstrap'], { env, timeout: 600_000 });
    });
  }
  const logFile = path.join(options.logDir, 'base.log');
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lagstorm-rootfs-'));
  options.log(`building ${BASE_IMAGE}: debootstrap --variant=minbase bookworm from ${apt.mirror} (30 s to 2 min; log ${logFile})`);
  try {
    await runLogged('debootstrap', ['--variant=minbase', 'bookworm', root, apt.mirror], logFile, `debootstrap bookworm from ${apt.mirror}`, { timeoutMs: 900_000 });
    const etcApt = path.join(root, 'etc', 'apt');
    // The host's sources replace debootstrap's one-line sources.list.
    fs.rmSync(path.join(etcApt, 'sources.list'), { force: true });
    for (const [rel, text] of Object.entries(apt.files)) {
      fs.mkdirSync(path.dirname(path.join(etcApt, rel)), { recursive: true });
      fs.writeFileSync(path.join(etcApt, rel), text);
    }
    for (const [file, base64] of Object.entries(apt.keyrings)) {
      fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
      fs.writeFileSync(path.join(root, file), Buffer.from(base64, 'base64'));
    }
    fs.writeFileSync(path.join(etcApt, 'apt.conf.d', '90lagstorm'), `${IMAGE_APT_CONF}\n`);
    fs.writeFileSync(path.join(root, 'etc', 'dpkg', 'dpkg.cfg.d', 'lagstorm-nodoc'), `${DPKG_EXCLUDES}\n`);
    // No init system in a container: package scripts must not try to start services.
    fs.writeFileSync(path.join(root, 'usr', 'sbin', 'policy-rc.d'), '#!/bin/sh\nexit 101\n', { mode: 0o755 });
    for (const dir of ['var/lib/apt/lists', 'var/cache/apt/archives']) {
      for (const entry of fs.readdirSync(path.join(root, dir))) if (entry !== 'partial' && entry !== 'lock') fs.rmSync(path.join(root, dir, entry), { recursive: true, force: true });
    }
    await runLogged('sh', ['-c', 'tar -C "$1" --numeric-owner -c . | docker import --change "$2" --change "$3" - "$4"', 'sh', root, `LABEL ${HASH_LABEL}=${hash}`, 'CMD ["/bin/bash"]', BASE_IMAGE], logFile, `docker import ${BASE_IMAGE}`, { timeoutMs: 600_000 });
  } finally {
    await removeRootfs(root);
  }
  return { built: true, hash };
}
