// A child process that writes a state document as fast as it can, through the agent's store, until
// it is killed. Each version is self-checking: `items` has exactly `counter` entries. After each
// write has returned (renamed into place) it prints `wrote N`, so the test knows which states were
// acknowledged and must survive a kill.
import { StateDocument } from '../../agent/store/document.ts';

const file = process.argv[2]!;
const doc = new StateDocument({ file, version: 1, initial: () => ({ counter: 0, items: [] as string[] }) });
await doc.load();
process.stdout.write('ready\n');
for (;;) {
  const next = await doc.update((d) => {
    d.counter++;
    // Sizes vary so writes take different times and a kill lands at different points.
    d.items = Array.from({ length: d.counter }, (_, i) => `item-${i}-${'x'.repeat(d.counter % 97)}`);
  });
  process.stdout.write(`wrote ${next.counter}\n`);
}
