// Durable state for the PSP sandbox, so a restart remembers every PaymentIntent, refund, STK push and pending
// webhook (refunds and reconciliation of earlier payments keep working in dev). Three backends:
//   - none (tests' default): plain in-memory maps, nothing written;
//   - Postgres (`databaseUrl`): the sandbox's own schema `sandbox` in the given database, created here with
//     `create schema/table if not exists` (never through the app's migrations: production has no sandbox);
//   - a file (`stateFile`): an append-only JSON-lines journal, compacted at start.
// The sandbox's maps are PersistentMaps: a set/get/delete marks the key dirty; `flush()` writes every dirty key
// whose JSON changed, in one transaction (one fsync'd append), and the HTTP layer awaits it before it answers,
// so an answered request survives a SIGKILL right after. Concurrent requests share a flush (group commit).
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { mkdir, open, type FileHandle } from "node:fs/promises";
import path from "node:path";
import postgres from "postgres";

export const SANDBOX_SCHEMA = "sandbox";

export interface StoredDoc {
  kind: string;
  id: string;
  /** Order of first write, over all kinds (lists are newest-first by it). */
  seq: number;
  /** JSON text. */
  doc: string;
}

export interface StateBackend {
  load(): Promise<StoredDoc[]>;
  write(puts: StoredDoc[], deletes: { kind: string; id: string }[]): Promise<void>;
  close(): Promise<void>;
}

class PostgresBackend implements StateBackend {
  private readonly sql: postgres.Sql;
  constructor(url: string) {
    this.sql = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  }
  async load(): Promise<StoredDoc[]> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.sql.unsafe(`create schema if not exists ${SANDBOX_SCHEMA}`);
        await this.sql.unsafe(`create table if not exists ${SANDBOX_SCHEMA}.state (kind text not null, id text not null, seq bigint not null, doc text not null, primary key (kind, id))`);
        break;
      } catch (err) {
        // Two sandboxes creating the schema at once: one gets a unique violation; the second try sees it.
        if (attempt > 0 || (err as { code?: string }).code !== "23505") throw err;
      }
    }
    const rows = await this.sql<{ kind: string; id: string; seq: string | number; doc: string }[]>`select kind, id, seq, doc from sandbox.state order by seq`;
    return rows.map((r) => ({ kind: r.kind, id: r.id, seq: Number(r.seq), doc: r.doc }));
  }
  async write(puts: StoredDoc[], deletes: { kind: string; id: string }[]): Promise<void> {
    const upsert = (q: postgres.Sql | postgres.TransactionSql) =>
      q`insert into sandbox.state (kind, id, seq, doc)
        select * from unnest(${q.array(puts.map((p) => p.kind))}::text[], ${q.array(puts.map((p) => p.id))}::text[], ${q.array(puts.map((p) => String(p.seq)))}::bigint[], ${q.array(puts.map((p) => p.doc))}::text[])
        on conflict (kind, id) do update set doc = excluded.doc`;
    const remove = (q: postgres.Sql | postgres.TransactionSql) =>
      q`delete from sandbox.state s using unnest(${q.array(deletes.map((d) => d.kind))}::text[], ${q.array(deletes.map((d) => d.id))}::text[]) as d(kind, id)
        where s.kind = d.kind and s.id = d.id`;
    if (deletes.length === 0) await upsert(this.sql);
    else if (puts.length === 0) await remove(this.sql);
    else
      await this.sql.begin(async (tx) => {
        await upsert(tx);
        await remove(tx);
      });
  }
  async close(): Promise<void> {
    await this.sql.end({ timeout: 5 });
  }
}

/** One JSON object per line: `{"k":kind,"i":id,"s":seq,"v":<doc>}`, or `{"k","i","x":1}` for a delete. */
class FileBackend implements StateBackend {
  private handle?: FileHandle;
  constructor(private readonly file: string) {}
  async load(): Promise<StoredDoc[]> {
    await mkdir(path.dirname(this.file), { recursive: true });
    const docs = new Map<string, StoredDoc>();
    if (existsSync(this.file)) {
      for (const line of readFileSync(this.file, "utf8").split("\n")) {
        if (!line) continue;
        let rec: { k: string; i: string; s?: number; v?: unknown; x?: 1 };
        try {
          rec = JSON.parse(line) as typeof rec;
        } catch {
          continue; // a line cut short by a crash mid-append: that write was never acknowledged
        }
        const key = `${rec.k}\u0000${rec.i}`;
        if (rec.x) docs.delete(key);
        else docs.set(key, { kind: rec.k, id: rec.i, seq: rec.s ?? 0, doc: JSON.stringify(rec.v) });
      }
    }
    const out = [...docs.values()].sort((a, b) => a.seq - b.seq);
    // Compact: the live documents only, written aside, synced, then renamed over the journal.
    const tmp = `${this.file}.compact`;
    const fd = openSync(tmp, "w");
    try {
      if (out.length) writeSync(fd, out.map(line).join(""));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.file);
    const dir = openSync(path.dirname(this.file), "r");
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
    this.handle = await open(this.file, "a");
    return out;
  }
  async write(puts: StoredDoc[], deletes: { kind: string; id: string }[]): Promise<void> {
    const text = puts.map(line).join("") + deletes.map((d) => `${JSON.stringify({ k: d.kind, i: d.id, x: 1 })}\n`).join("");
    await this.handle!.appendFile(text);
    await this.handle!.datasync();
  }
  async close(): Promise<void> {
    await this.handle?.close();
    this.handle = undefined;
  }
}

const line = (d: StoredDoc) => `{"k":${JSON.stringify(d.kind)},"i":${JSON.stringify(d.id)},"s":${d.seq},"v":${d.doc}}\n`;

export interface PersistenceOptions {
  databaseUrl?: string;
  stateFile?: string;
}

export type PersistenceMode = "memory" | "postgres" | "file";

interface Dirty {
  kind: string;
  id: string;
  map: PersistentMap<unknown>;
}

/** Owns the backend, the dirty set and the flush queue. Each map is made (and restored) under a kind. */
export class Persistence {
  readonly mode: PersistenceMode;
  private readonly backend?: StateBackend;
  private dirty = new Map<string, Dirty>();
  /** Last JSON written per key: unchanged documents are not written again. */
  private readonly written = new Map<string, string>();
  private readonly seqs = new Map<string, number>();
  private seq = 0;
  private queue: Promise<void> = Promise.resolve();
  private scheduled = false;
  private loaded: StoredDoc[] = [];

  constructor(opts: PersistenceOptions, private readonly onError: (err: unknown) => void = (e) => console.error("[sandbox] persisting state failed", e)) {
    if (opts.databaseUrl) {
      this.mode = "postgres";
      this.backend = new PostgresBackend(opts.databaseUrl);
    } else if (opts.stateFile) {
      this.mode = "file";
      this.backend = new FileBackend(opts.stateFile);
    } else this.mode = "memory";
  }

  get enabled(): boolean {
    return this.backend !== undefined;
  }

  /** Reads the stored state; each map then takes its own kind with `restore`. Call before registering maps' data. */
  async open(): Promise<void> {
    if (!this.backend) return;
    this.loaded = await this.backend.load();
    for (const d of this.loaded) {
      const key = `${d.kind}\u0000${d.id}`;
      this.written.set(key, d.doc);
      this.seqs.set(key, d.seq);
      this.seq = Math.max(this.seq, d.seq);
    }
  }

  /** The stored documents of `kind`, oldest first. */
  stored<V>(kind: string): [string, V][] {
    return this.loaded.filter((d) => d.kind === kind).map((d) => [d.id, JSON.parse(d.doc) as V]);
  }

  map<V>(kind: string, persistable: (v: V) => boolean = () => true): PersistentMap<V> {
    const m = new PersistentMap<V>(this.enabled ? this : undefined, kind, persistable);
    if (this.enabled) for (const [id, v] of this.stored<V>(kind)) m.restore(id, v);
    return m;
  }

  mark(kind: string, id: string, map: PersistentMap<unknown>): void {
    const key = `${kind}\u0000${id}`;
    if (!this.seqs.has(key)) this.seqs.set(key, ++this.seq);
    if (!this.dirty.has(key)) this.dirty.set(key, { kind, id, map });
    if (!this.scheduled) {
      // Changes made outside a request (timers, programmatic helpers) are written soon without anyone waiting.
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.flush().catch(this.onError);
      });
    }
  }

  /** Resolves when everything changed before this call is stored. Rejects if the backend failed (nothing lost: it retries). */
  flush(): Promise<void> {
    if (!this.backend) return Promise.resolve();
    const run = this.queue.then(() => this.writeBatch());
    this.queue = run.catch(() => {});
    return run;
  }

  private async writeBatch(): Promise<void> {
    if (this.dirty.size === 0) return;
    const batch = this.dirty;
    this.dirty = new Map();
    const puts: StoredDoc[] = [];
    const deletes: { kind: string; id: string }[] = [];
    const after = new Map<string, string | undefined>();
    for (const [key, d] of batch) {
      const v = d.map.peek(d.id);
      const doc = v === undefined || !d.map.persistable(v) ? undefined : JSON.stringify(v);
      if (doc === this.written.get(key)) continue;
      after.set(key, doc);
      if (doc === undefined) deletes.push({ kind: d.kind, id: d.id });
      else puts.push({ kind: d.kind, id: d.id, seq: this.seqs.get(key)!, doc });
    }
    if (puts.length === 0 && deletes.length === 0) return;
    try {
      await this.backend!.write(puts, deletes);
    } catch (err) {
      for (const [key, d] of batch) if (!this.dirty.has(key)) this.dirty.set(key, d);
      throw err;
    }
    for (const [key, doc] of after) {
      if (doc === undefined) this.written.delete(key);
      else this.written.set(key, doc);
    }
  }

  async close(): Promise<void> {
    if (!this.backend) return;
    await this.flush().catch(this.onError);
    await this.backend.close();
  }
}

/**
 * A Map whose changes are persisted. `get` marks the key too: the sandbox mutates objects in place after
 * reading them (an unchanged one costs a JSON.stringify at flush, no write). `peek` reads without marking.
 */
export class PersistentMap<V> extends Map<string, V> {
  constructor(
    private readonly p: Persistence | undefined,
    private readonly kind: string,
    readonly persistable: (v: V) => boolean,
  ) {
    super();
  }
  override set(key: string, value: V): this {
    super.set(key, value);
    this.p?.mark(this.kind, key, this as PersistentMap<unknown>);
    return this;
  }
  override get(key: string): V | undefined {
    const v = super.get(key);
    if (v !== undefined) this.p?.mark(this.kind, key, this as PersistentMap<unknown>);
    return v;
  }
  override delete(key: string): boolean {
    const had = super.delete(key);
    if (had) this.p?.mark(this.kind, key, this as PersistentMap<unknown>);
    return had;
  }
  override clear(): void {
    for (const key of [...this.keys()]) this.delete(key);
  }
  /** Marks `key` changed (an object mutated through a reference kept elsewhere). */
  touch(key: string): void {
    if (super.has(key)) this.p?.mark(this.kind, key, this as PersistentMap<unknown>);
  }
  peek(key: string): V | undefined {
    return super.get(key);
  }
  /** Loads a stored entry without marking it. */
  restore(key: string, value: V): void {
    super.set(key, value);
  }
}
