/**
 * What a process's JavaScript heap holds per watcher: reads two V8 heap snapshots of the same
 * process (before and after its watchers connected, as `BENCH_HEAP_SNAPSHOT=<dir> make
 * bench-watch` writes them) and prints what grew, by object kind (constructor, closure name,
 * array or string), with counts and bytes, and per watcher when given their number.
 *
 *   node bench/heap-summary.ts <before.heapsnapshot> <after.heapsnapshot> [watchers] [top=30]
 *
 * Self sizes only (what each object itself occupies, not what it keeps alive); the kinds that
 * grow by about one (or a few) per watcher show what each watch allocates. Memory outside the
 * JavaScript heap (nghttp2's per-stream state, socket buffers) is the RSS growth the total here
 * does not explain.
 */
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] }; node_count: number };
  nodes: number[];
  strings: string[];
}

interface Tally {
  count: number;
  bytes: number;
}

/** Count and self size of every kind of object in a snapshot. */
function tally(file: string): { kinds: Map<string, Tally>; total: number } {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const kinds = new Map<string, Tally>();
  let total = 0;
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + typeAt] as number] ?? 'unknown';
    const name = snap.strings[snap.nodes[i + nameAt] as number] ?? '';
    const size = snap.nodes[i + sizeAt] as number;
    let key: string;
    if (type === 'object' || type === 'closure' || type === 'native' || type === 'hidden' || type === 'array' || type === 'object shape') {
      key = `${type} ${name.length > 60 ? `${name.slice(0, 60)}…` : name}`;
    } else {
      key = type;
    }
    const t = kinds.get(key) ?? { count: 0, bytes: 0 };
    t.count++;
    t.bytes += size;
    kinds.set(key, t);
    total += size;
  }
  return { kinds, total };
}

function main(): void {
  const [beforeFile, afterFile, watchersArg, topArg] = process.argv.slice(2);
  if (beforeFile === undefined || afterFile === undefined) {
    process.stderr.write('usage: node bench/heap-summary.ts <before.heapsnapshot> <after.heapsnapshot> [watchers] [top=30]\n');
    process.exitCode = 2;
    return;
  }
  const watchers = watchersArg === undefined ? 0 : Number(watchersArg);
  const top = Number(topArg ?? 30);
  const before = tally(beforeFile);
  const after = tally(afterFile);
  const rows: { key: string; count: number; bytes: number }[] = [];
  for (const [key, a] of after.kinds) {
    const b = before.kinds.get(key) ?? { count: 0, bytes: 0 };
    rows.push({ key, count: a.count - b.count, bytes: a.bytes - b.bytes });
  }
  rows.sort((x, y) => y.bytes - x.bytes);
  const grown = after.total - before.total;
  const per = (n: number): string => (watchers > 0 ? (n / watchers).toFixed(watchers > 0 && Math.abs(n / watchers) < 10 ? 2 : 0).padStart(8) : '');
  process.stdout.write(
    `JS heap (self sizes): ${(before.total / 2 ** 20).toFixed(1)} → ${(after.total / 2 ** 20).toFixed(1)} MiB, ` +
      `+${(grown / 2 ** 20).toFixed(1)} MiB${watchers > 0 ? `, ${(grown / watchers).toFixed(0)} bytes per watcher (${watchers})` : ''}\n\n`,
  );
  process.stdout.write(`${'bytes'.padStart(10)} ${'count'.padStart(8)}${watchers > 0 ? ` ${'B/watch'.padStart(8)} ${'n/watch'.padStart(8)}` : ''}  kind\n`);
  for (const r of rows.slice(0, top)) {
    process.stdout.write(
      `${String(r.bytes).padStart(10)} ${String(r.count).padStart(8)}${watchers > 0 ? ` ${per(r.bytes)} ${per(r.count)}` : ''}  ${r.key}\n`,
    );
  }
}

// Piped into head: stop quietly when the reader has gone.
process.stdout.on('error', () => process.exit(0));
main();
