/** The toxiproxy family: toxics and link-down on a link's proxy, and the undo of their debris. */
export { LINK_NAMES, linkOf, toxiproxyFaults } from './toxiproxy-faults';
export { toxiproxyDebrisUndoers } from './undo-toxiproxy';
