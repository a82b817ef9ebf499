// Pre-builds node templates into the image with the node engine's own builder (LxcDriver
// ensureTemplate), so the first node on a new station is made in seconds, offline.
//   node templates.ts CACHE_DIR busybox [debian]
// Runs on the build machine (same Debian release and CPU as the image): the busybox template takes
// the host's busybox-static, the debian template is made by mmdebstrap from the Debian mirror.
import { exec } from '../../../agent/exec.ts';
import { createLogger } from '../../../agent/log.ts';
import { LxcDriver } from '../../../agent/nodes/lxc/driver.ts';
import type { TemplateName } from '../../../agent/nodes/driver.ts';

const [cache, ...templates] = process.argv.slice(2);
if (!cache || templates.length === 0) {
  process.stderr.write('usage: templates.ts CACHE_DIR busybox [debian]\n');
  process.exit(2);
}
const driver = new LxcDriver({ lxcPath: `${cache}/.unused-lxc`, templateCache: cache, run: exec, log: createLogger('warn', false) });
for (const template of templates) {
  const started = Date.now();
  await driver.ensureTemplate(template as TemplateName, (line) => process.stdout.write(`        ${line}\n`));
  process.stdout.write(`        template ${template} ready (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
}
