// Prints the configuration reference (a Markdown table) from the config schema, so the README
// cannot drift from what the agent accepts:  node scripts/docs/config-table.ts
import { ConfigSchema } from '../../agent/config/schema.ts';
import { envName } from '../../agent/config/load.ts';

const rows = Object.entries(ConfigSchema.properties).map(([key, schema]) => {
  const s = schema as { default?: unknown; description?: string; anyOf?: { const: string }[]; minimum?: number; maximum?: number };
  const def = s.default === '' ? (s.description?.includes('empty means') ? '(derived)' : '(none)') : `\`${String(s.default)}\``;
  const range = s.anyOf ? s.anyOf.map((a) => a.const).join(' \\| ') : s.minimum !== undefined ? `${s.minimum}–${s.maximum}` : '';
  return `| \`${envName(key)}\` | \`${key}\` | ${def} | ${[s.description ?? '', range].filter(Boolean).join('; ')} |`;
});
process.stdout.write(`${['| environment | config.json | default | meaning |', '|---|---|---|---|', ...rows].join('\n')}\n`);
