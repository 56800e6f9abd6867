import type { DataSource } from 'typeorm';

/** Each loop's last figures (`control_loops`), read by the API's metrics and host views. */
export class ControlLoopRepository {
  constructor(private readonly ds: DataSource) {}

  async record(name: string, stats: object): Promise<void> {
    await this.ds.query(
      `INSERT INTO control_loops (name, stats, updated_at) VALUES ($1, $2, now())
       ON CONFLICT (name) DO UPDATE SET stats = EXCLUDED.stats, updated_at = now()`,
      [name, JSON.stringify(stats)],
    );
  }

  /** The loop's last figures and when it recorded them; null when it never has. */
  async last<T>(name: string): Promise<{ stats: T; updatedAt: Date } | null> {
    const [row] = (await this.ds.query(
      `SELECT stats, updated_at AS "updatedAt" FROM control_loops WHERE name = $1`,
      [name],
    )) as { stats: T; updatedAt: Date }[];
    return row ?? null;
  }

  /** When the loop last recorded its figures; null when it never has. */
  async updatedAt(name: string): Promise<Date | null> {
    const [row] = (await this.ds.query(`SELECT updated_at FROM control_loops WHERE name = $1`, [
      name,
    ])) as { updated_at: Date }[];
    return row?.updated_at ?? null;
  }

  /** Two fields of a loop's last stats, as text (null when the loop or the field is absent). */
  async fields(
    name: string,
    keys: [string, string],
  ): Promise<[string | null, string | null] | undefined> {
    const [row] = (await this.ds.query(
      `SELECT stats->>$2 AS a, stats->>$3 AS b FROM control_loops WHERE name = $1`,
      [name, keys[0], keys[1]],
    )) as { a: string | null; b: string | null }[];
    return row ? [row.a, row.b] : undefined;
  }
}
