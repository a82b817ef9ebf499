// When a node's next automatic snapshot set is due: every `disk.snapshotSeconds` (0: never) after
// its last attempt, successful or not (a failing node is retried at its own pace, not in a loop).
// Pure: the keeper (keeper.ts) feeds it the nodes and the clock.

export interface ScheduledNode {
  name: string;
  snapshotSeconds: number;
  /** the last attempt (or, after a start, the newest automatic set); null: never */
  lastAt: number | null;
}

export function isDue(node: ScheduledNode, now: number): boolean {
  if (!(node.snapshotSeconds > 0)) return false;
  return node.lastAt === null || now - node.lastAt >= node.snapshotSeconds * 1000;
}

export const dueNodes = (nodes: ScheduledNode[], now: number): string[] => nodes.filter((n) => isDue(n, now)).map((n) => n.name);
