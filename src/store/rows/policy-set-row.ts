import type { PolicySetRecord } from '../store.ts';

/** A row of `policy_sets` joined with `policy_set_active`, the same in every store. */
export interface PolicySetRow {
  name: string;
  version: number;
  files: string;
  digest: string;
  created_at: string;
  /** 0/1 in SQLite, a boolean in Postgres. */
  active: number | boolean;
}

/** Every version of every set, with whether it is the active one (a `WHERE` may follow). */
export const selectPolicySets = `SELECT s.name, s.version, s.files, s.digest, s.created_at,
  (a.version IS NOT NULL AND a.version = s.version) AS active
  FROM policy_sets s LEFT JOIN policy_set_active a ON a.name = s.name`;

export function toPolicySet(row: PolicySetRow): PolicySetRecord {
  return {
    name: row.name,
    version: Number(row.version),
    files: JSON.parse(row.files),
    digest: row.digest,
    createdAt: row.created_at,
    active: row.active === 1 || row.active === true,
  };
}
