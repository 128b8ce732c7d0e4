/** The kernel family: packet loss with nftables on a host port, and the undo of its tables. */
export { kernelFaults } from './kernel-faults';
export { kernelDebrisUndoers } from './nft';
