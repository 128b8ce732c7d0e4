/** The process family: crash, restart and pause of a named service; heals leave it running (no debris of its own). */
export { processFaults } from './process-faults';
