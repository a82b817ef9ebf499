// The hardware reader's process: prints what systeminformation reads (RawHardware) as JSON on
// stdout and exits. Started by raw-reader.ts through the agent's command runner.
import { readRaw } from './si-reader.ts';

const raw = await readRaw();
// systeminformation may leave timers behind: exit once the answer is written
process.stdout.write(JSON.stringify(raw), () => process.exit(0));
