/**
 * Kernel packet loss (no netem in this kernel): an nftables table of the fault's own drops or
 * rejects a random share of TCP packets to and/or from one loopback port (`numgen random mod 100`).
 * Heal deletes the table and reads back that it is gone.
 */
import { z } from 'zod';
import { HarnessError } from '../../core/exit-codes';
import { linkCapability, type Capability, type SystemUnderTest } from '../../stack/system-under-test';
import { defineFault, healOnce, recordDebris } from '../define-fault';
import type { Fault, FaultHandle } from '../fault';
import { LINK_NAMES } from '../toxiproxy';
import { nextSequence, requireRoot, runCommand, safeName } from '../util';
import { NFT, removeNftTable } from './nft';

export { nftTableExists } from './nft';

export const kernelPacketLossParams = z.strictObject({
  /** A link (its proxy's listen port), 'backend' (its WebSocket port) or 'postgres'. */
  target: z.enum([...LINK_NAMES, 'backend', 'postgres']).default('bots-backend'),
  percent: z.number().int().min(1).max(100).default(30),
  action: z.enum(['drop', 'reject']).default('drop'),
  direction: z.enum(['to-port', 'from-port', 'both']).default('both'),
});

type PacketLossTarget = z.output<typeof kernelPacketLossParams>['target'];

const isLink = (target: PacketLossTarget): target is (typeof LINK_NAMES)[number] => (LINK_NAMES as readonly string[]).includes(target);

export function targetPort(sut: SystemUnderTest, target: PacketLossTarget): number {
  const port = sut.host.portOf(target);
  if (port === undefined) throw new HarnessError(isLink(target) ? `the stack has no "${target}" link` : `the stack has no ${target} port on this host`);
  return port;
}

export function nftRuleset(table: string, port: number, params: z.output<typeof kernelPacketLossParams>): string {
  const verdict = params.action === 'drop' ? 'drop' : 'reject with tcp reset';
  const matches = params.direction === 'both' ? [`tcp dport ${port}`, `tcp sport ${port}`] : [params.direction === 'to-port' ? `tcp dport ${port}` : `tcp sport ${port}`];
  const chance = params.percent >= 100 ? '' : ` numgen random mod 100 < ${params.percent}`; // nft rejects '< 100' (range 0-99)
  // Our own resets (sport = port on the way back) must pass, or 'both' would eat them.
  const notReset = params.action === 'reject' ? ' tcp flags & rst == 0' : '';
  const rules = matches.map((match) => `    ${match}${notReset}${chance} counter ${verdict}`);
  // Loopback packets pass the input hook once per direction, so one chain sees both sides.
  return [`table inet ${table} {`, '  chain input {', '    type filter hook input priority -10; policy accept;', ...rules, '  }', '}', ''].join('\n');
}

export const kernelPacketLossFault = defineFault({
  type: 'kernel-packet-loss',
  family: 'kernel',
  description: 'Drops (or rejects with a TCP reset) `percent` % of TCP packets to/from one loopback port with nftables.',
  params: kernelPacketLossParams,
  requiresRoot: true,
  requires: (p): Capability[] => ['host:nft', ...(isLink(p.target) ? [linkCapability(p.target)] : [])],
  targetOf: (p) => p.target,
  proof: "packets its rule dropped or rejected (the nft table's counters, read before it is deleted)",
  judge: ({ params, observations }) => {
    const hit = observations.packetsHit;
    if (typeof hit !== 'number') return { bit: false, effect: 'not measured: the nft counters could not be read before the table was deleted' };
    if (hit === 0) return { bit: false, effect: `no packet on port ${observations.port} matched while it was on` };
    return { bit: true, effect: `${hit} packets ${params.action === 'drop' ? 'dropped' : 'rejected'} on port ${observations.port}` };
  },
  async inject(target, p): Promise<FaultHandle> {
    requireRoot('kernel-packet-loss', 'nftables rules');
    const port = targetPort(target.sut, p.target);
    // The pid keeps two runs started in the same second (similar names) from sharing a table.
    const table = `lagstorm_${safeName(target.sut.runId)}_${process.pid}_${nextSequence()}`;
    const forget = recordDebris(target.sut.debris, { kind: 'nft-table', family: 'inet', table });
    const heal = async () => {
      await removeNftTable(table);
      forget();
    };
    try {
      await runCommand(NFT, ['-f', '-'], { input: nftRuleset(table, port, p), timeoutMs: 5000 });
      const { stdout } = await runCommand(NFT, ['list', 'table', 'inet', table], { timeoutMs: 5000 });
      if (!new RegExp(`tcp [ds]port ${port}`).test(stdout)) throw new HarnessError(`nft table ${table} was created without its rule:\n${stdout}`);
    } catch (error) {
      await heal().catch(() => undefined);
      throw error;
    }
    target.log(`kernel-packet-loss: ${p.action} ${p.percent}% ${p.direction} port ${port} (nft table inet ${table})`);
    const observations: Record<string, number | string> = { table, port };
    return {
      observations,
      heal: healOnce(async () => {
        // Read the counters before the table goes, so the summary says how much was really dropped.
        const listing = await runCommand(NFT, ['list', 'table', 'inet', table], { timeoutMs: 5000 }).catch(() => undefined);
        const packets = [...(listing?.stdout.matchAll(/counter packets (\d+)/g) ?? [])].reduce((sum, match) => sum + Number(match[1]), 0);
        if (listing) observations.packetsHit = packets;
        await heal();
      }),
    };
  },
});

export const kernelFaults: Fault[] = [kernelPacketLossFault as unknown as Fault];
