// Prometheus text exposition. Subsystems register collectors that return samples on demand,
// so a scrape reads current state and nothing is kept in between.
export interface Sample {
  name: string;
  help: string;
  type: 'gauge' | 'counter';
  value: number;
  labels?: Record<string, string>;
}
export type Collector = () => Sample[];

const escapeLabel = (v: string): string => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

export class MetricsRegistry {
  private readonly collectors: Collector[] = [];

  register(collector: Collector): void {
    this.collectors.push(collector);
  }

  render(): string {
    const byName = new Map<string, Sample[]>();
    for (const collect of this.collectors) {
      for (const sample of collect()) {
        const list = byName.get(sample.name) ?? [];
        list.push(sample);
        byName.set(sample.name, list);
      }
    }
    const lines: string[] = [];
    for (const [name, samples] of byName) {
      lines.push(`# HELP ${name} ${samples[0]!.help}`, `# TYPE ${name} ${samples[0]!.type}`);
      for (const s of samples) {
        const labels =
          s.labels && Object.keys(s.labels).length
            ? `{${Object.entries(s.labels)
                .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
                .join(',')}}`
            : '';
        lines.push(`${name}${labels} ${Number.isFinite(s.value) ? s.value : 0}`);
      }
    }
    return `${lines.join('\n')}\n`;
  }
}
