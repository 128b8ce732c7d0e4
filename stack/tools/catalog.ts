/**
 * Every external part lagstorm uses, how to find its version, and how `lagstorm setup` gets it.
 * Debian packages come through apt (root); Go tools are built with `go install` at a pinned
 * version into the tools cache's bin/ (stack/tools-path.ts: .tools/bin in this repo, ~/.cache/lagstorm/bin installed).
 */
import path from 'node:path';
import { TOOLS_BIN_DIR } from '../tools-path';

export { REPO_ROOT } from '../tools-path';
export const TOOLS_BIN = TOOLS_BIN_DIR;

/** Newest Toxiproxy release the Go module proxy serves (checked 2026-11-24: v2.12.0; v2.13+ not served). */
export const TOXIPROXY_VERSION = 'v2.12.0';
/** Toxics compiled into that version (its toxics/ directory): no packet_loss, no corrupt. */
export const TOXIPROXY_TOXICS = ['latency', 'bandwidth', 'slow_close', 'timeout', 'reset_peer', 'slicer', 'limit_data', 'noop'] as const;

export type ToolSource =
  | { kind: 'apt'; package: string }
  | { kind: 'go'; module: string; version: string; binary: string; /** Go variable stamped with the version (-ldflags -X) */ versionVariable?: string }
  | { kind: 'unavailable'; reason: string };

export interface ToolSpec {
  name: string;
  /** What it is for, in one line. */
  purpose: string;
  /** Candidate paths or bare commands (looked up on PATH); first hit wins. */
  candidates: () => string[];
  versionArgs: string[];
  /** Picks the version out of the command's output. */
  parseVersion: (output: string) => string;
  source: ToolSource;
  /** Required for the default `process` runtime (run, test); optional ones only matter for some features. */
  required: boolean;
}

const firstLine = (text: string) => text.split('\n').find((line) => line.trim())?.trim() ?? '';

export const TOOLS: ToolSpec[] = [
  {
    name: 'postgresql',
    purpose: 'the run-private database cluster (initdb, postgres)',
    candidates: () => ['17', '16', '15'].map((major) => `/usr/lib/postgresql/${major}/bin/postgres`),
    versionArgs: ['--version'],
    parseVersion: (out) => /(\d+\.\d+)/.exec(out)?.[1] ?? firstLine(out),
    source: { kind: 'apt', package: 'postgresql-15' },
    required: true,
  },
  {
    name: 'toxiproxy-server',
    purpose: 'network faults on the bots→backend and backend→database links',
    candidates: () => [path.join(TOOLS_BIN, 'toxiproxy-server'), 'toxiproxy-server'],
    versionArgs: ['--version'],
    parseVersion: (out) => /version (\S+)/.exec(out)?.[1] ?? firstLine(out),
    source: { kind: 'go', module: 'github.com/Shopify/toxiproxy/v2/cmd/server', version: TOXIPROXY_VERSION, binary: 'server', versionVariable: 'github.com/Shopify/toxiproxy/v2.Version' },
    required: true,
  },
  {
    name: 'prometheus',
    purpose: 'scrapes the backend, the bots and the PostgreSQL collector every second',
    candidates: () => ['prometheus'],
    versionArgs: ['--version'],
    parseVersion: (out) => /version (\S+)/.exec(out)?.[1] ?? firstLine(out),
    source: { kind: 'apt', package: 'prometheus' },
    required: true,
  },
  {
    name: 'nft',
    purpose: 'kernel packet loss on one loopback port (needs root)',
    candidates: () => ['nft', '/usr/sbin/nft'],
    versionArgs: ['--version'],
    parseVersion: (out) => /v(\d[\d.]*)/.exec(out)?.[1] ?? firstLine(out),
    source: { kind: 'apt', package: 'nftables' },
    required: false,
  },
  {
    name: 'chromium',
    purpose: 'renders the HTML report in tests (driven by playwright-core)',
    candidates: () => ['/usr/bin/chromium', 'chromium'],
    versionArgs: ['--version'],
    parseVersion: (out) => /Chromium (\S+)/.exec(out)?.[1] ?? firstLine(out),
    source: { kind: 'apt', package: 'chromium' },
    required: true,
  },
  {
    name: 'dockerd',
    purpose: 'the containers runtime (not needed by the default process runtime)',
    candidates: () => ['dockerd', '/usr/sbin/dockerd'],
    versionArgs: ['--version'],
    parseVersion: (out) => /version ([^,\s]+)/.exec(out)?.[1] ?? firstLine(out),
    source: { kind: 'apt', package: 'docker.io' },
    required: false,
  },
  {
    name: 'k6',
    purpose: 'runs the bundled bot core as k6 VUs (optional)',
    candidates: () => [path.join(TOOLS_BIN, 'k6'), 'k6'],
    versionArgs: ['version'],
    parseVersion: (out) => /k6 (v\S+)/.exec(out)?.[1] ?? firstLine(out),
    source: { kind: 'unavailable', reason: "the Go module proxy here marks go.k6.io/k6 not-to-use (AGPL); lagstorm's Node fleet runs the bots instead" },
    required: false,
  },
];
