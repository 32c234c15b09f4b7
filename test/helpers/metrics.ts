/** Scraping /metrics the way Prometheus does, and reading single values out of it. */
import parsePrometheusTextFormat, { type PromFamily, type PromSample } from 'parse-prometheus-text-format';

export interface Scrape {
  status: number;
  families: PromFamily[];
  /** a counter's or gauge's value (0 when the series does not exist yet) */
  value(name: string, labels?: Record<string, string>): number;
  /** a histogram's observation count (0 when the series does not exist yet) */
  count(name: string, labels?: Record<string, string>): number;
}

export async function scrapeMetrics(baseUrl: string, token?: string): Promise<Scrape> {
  const res = await fetch(`${baseUrl}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const text = await res.text();
  const families = res.status === 200 ? parsePrometheusTextFormat(text) : [];
  if (res.status === 200) {
    // the parser is lenient: insist on what Prometheus itself insists on
    expectExposition(text, res.headers.get('content-type'));
  }
  const sample = (name: string, labels: Record<string, string> = {}): PromSample | undefined =>
    families
      .find((f) => f.name === name)
      ?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  return {
    status: res.status,
    families,
    value: (name, labels) => Number(sample(name, labels)?.value ?? 0),
    count: (name, labels) => Number(sample(name, labels)?.count ?? 0),
  };
}

/** every non-comment line is `name{labels} value`, every family is declared with HELP and TYPE */
function expectExposition(text: string, contentType: string | null): void {
  if (!contentType?.startsWith('text/plain')) throw new Error(`unexpected content-type ${contentType}`);
  const declared = new Set<string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) {
      declared.add(type[1]!);
      continue;
    }
    if (line.startsWith('# HELP ')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (-?[0-9.e+-]+|NaN|[+-]Inf)$/.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${JSON.stringify(line)}`);
    const family = m[1]!.replace(/_(bucket|sum|count|total|created)$/, '');
    if (!declared.has(m[1]!) && !declared.has(family)) throw new Error(`sample before its TYPE line: ${line}`);
  }
}
