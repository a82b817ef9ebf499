// Exclusive execution per key: every change to one node runs alone (API action or reconcile pass),
// while different nodes proceed independently. The queue itself is the agent's one serial queue.
export { KeyedSerialQueue as KeyedLock } from '../lib/serial-queue.ts';
