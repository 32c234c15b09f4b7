/**
 * Scraping /metrics the way Prometheus does: a strict reader of the text exposition format
 * (https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format) that fails
 * on any line Prometheus would reject, and lookups of single series.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  help: string;
}

export interface Scrape {
  status: number;
  families: Family[];
  samples: Sample[];
  /** a counter's or gauge's value (0 when the series does not exist yet) */
  value(name: string, labels?: Record<string, string>): number;
  /** a histogram's observation count (0 when the series does not exist yet) */
  count(name: string, labels?: Record<string, string>): number;
}

export async function scrapeMetrics(baseUrl: string, token?: string): Promise<Scrape> {
  const res = await fetch(`${baseUrl}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const text = await res.text();
  const parsed = res.status === 200 ? parseExposition(text, res.headers.get('content-type')) : { families: [], samples: [] };
  const value = (name: string, labels: Record<string, string> = {}) =>
    parsed.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value ?? 0;
  return { status: res.status, ...parsed, value, count: (name, labels) => value(`${name}_count`, labels) };
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)(?: (-?\\d+))?$`);
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(?:,|$)/y;
const SUFFIXES = { histogram: ['_bucket', '_sum', '_count'], summary: ['', '_sum', '_count'] } as const;

/** the exposition, or an Error naming the first line Prometheus would refuse */
export function parseExposition(text: string, contentType: string | null): { families: Family[]; samples: Sample[] } {
  if (!contentType?.startsWith('text/plain')) throw new Error(`unexpected content-type ${contentType}`);
  if (!text.endsWith('\n')) throw new Error('the exposition must end with a newline');
  const families = new Map<string, Family>();
  const samples: Sample[] = [];
  for (const line of text.slice(0, -1).split('\n')) {
    if (line === '') continue;
    const help = new RegExp(`^# HELP (${NAME}) (.*)$`).exec(line);
    if (help) {
      families.set(help[1]!, { name: help[1]!, type: families.get(help[1]!)?.type ?? 'untyped', help: help[2]! });
      continue;
    }
    const type = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`).exec(line);
    if (type) {
      families.set(type[1]!, { name: type[1]!, type: type[2] as Family['type'], help: families.get(type[1]!)?.help ?? '' });
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`not a sample line: ${JSON.stringify(line)}`);
    const [, name, labelText, rawValue] = m as unknown as [string, string, string | undefined, string];
    const value = rawValue === '+Inf' ? Infinity : rawValue === '-Inf' ? -Infinity : Number(rawValue);
    // prom-client writes NaN as "Nan" (e.g. the event-loop lag between two close scrapes)
    if (Number.isNaN(value) && rawValue !== 'NaN' && rawValue !== 'Nan') throw new Error(`not a number in ${JSON.stringify(line)}`);
    const family = [...families.values()].find(
      (f) => f.name === name || (f.type in SUFFIXES && SUFFIXES[f.type as keyof typeof SUFFIXES].some((s) => `${f.name}${s}` === name)),
    );
    if (!family) throw new Error(`sample without a TYPE line before it: ${JSON.stringify(line)}`);
    samples.push({ name, labels: parseLabels(labelText ?? '', line), value });
  }
  return { families: [...families.values()], samples };
}

function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  LABEL.lastIndex = 0;
  while (LABEL.lastIndex < text.length) {
    const at = LABEL.lastIndex;
    const m = LABEL.exec(text);
    if (!m || m.index !== at) throw new Error(`bad labels in ${JSON.stringify(line)}`);
    labels[m[1]!] = m[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
  }
  return labels;
}
