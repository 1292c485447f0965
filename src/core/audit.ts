import { canonicalJson, sha256 } from './canonical-json.ts';

/**
 * The audit log: one entry per policy decision, append-only and hash-chained. Each entry's
 * hash covers its own fields, its place (`seq`) and the hash of the entry before it, so an
 * edit, a deletion or a reordering of entries breaks the chain where it happened.
 */

/**
 * What the policies decided on a call: `needs_approval` when a permit that allows it is
 * annotated `@approval("required")` (the call waits for a person's answer).
 */
export type Verdict = 'allow' | 'deny' | 'needs_approval';

/**
 * How a request for approval ended, as its own audit entry: a person approved or denied it,
 * nobody answered in time, the run was cancelled while it waited, or the call was decided
 * again (on a resume) without needing approval.
 */
export type ApprovalOutcome = 'approved' | 'denied' | 'timed_out' | 'cancelled' | 'withdrawn';

/** A decision as it is recorded, before the log gives it its place in the chain. */
export interface AuditEntry {
  at: string;
  runId: string | null;
  callId: string | null;
  /** `Agent::"name"` */
  principal: string;
  /** The person the agent acts for. */
  user: string;
  /** The Cedar action, e.g. `fs.write`. */
  action: string;
  /** The resources the call touches, as Cedar entity ids, e.g. `File::".env"`. */
  resource: string;
  /** SHA-256 of the canonical JSON of the call's input (never the input itself). */
  inputDigest: string;
  /**
   * What the policies in force decided; for the entry that closes a request for approval,
   * how it ended (`approved`, `denied`, `timed_out`, ...).
   */
  decision: Verdict | ApprovalOutcome;
  /** What happened to the call: the decision, unless the policy set only logs. */
  effect: Verdict;
  mode: 'enforce' | 'log_only';
  /** The policies that determined the decision. */
  policies: string[];
  /** Evaluation errors (each denies). */
  errors: string[];
  reason: string;
  /** How long the decision took, in microseconds. */
  latencyUs: number;
}

export interface AuditRecord extends AuditEntry {
  seq: number;
  prevHash: string;
  hash: string;
}

/** The `prevHash` of the first entry. */
export const genesisHash = '0'.repeat(64);

/** The hash of an entry at `seq` after an entry whose hash is `prevHash`. */
export function auditHash(seq: number, prevHash: string, entry: AuditEntry): string {
  const fields: Record<string, unknown> = { seq, prevHash };
  for (const key of auditFields) fields[key] = entry[key];
  return sha256(canonicalJson(fields));
}

/** Every field of an entry, in the order the chain covers them (all of them). */
export const auditFields = [
  'at',
  'runId',
  'callId',
  'principal',
  'user',
  'action',
  'resource',
  'inputDigest',
  'decision',
  'effect',
  'mode',
  'policies',
  'errors',
  'reason',
  'latencyUs',
] as const satisfies readonly (keyof AuditEntry)[];

/** The latest entry as the log last recorded it, kept apart to catch a cut-off tail. */
export interface AuditHead {
  seq: number;
  hash: string;
}

export type AuditVerification =
  | { ok: true; entries: number; head?: AuditHead }
  | { ok: false; entries: number; seq: number; problem: string };

/**
 * Checks a chain read in `seq` order: every `seq` follows the one before, every entry's
 * `prevHash` is the hash before it, every hash matches the entry, and the last entry is the
 * recorded head. `anchor` is an entry's hash noted elsewhere earlier, which must still hold
 * (someone able to rewrite the whole database could rebuild a consistent chain, but not
 * one that keeps an anchor kept outside it).
 */
export function verifyAudit(
  records: Iterable<AuditRecord>,
  head: AuditHead | undefined,
  anchor?: AuditHead,
): AuditVerification {
  let expectedSeq = 1;
  let prevHash = genesisHash;
  let count = 0;
  let anchorSeen = false;
  for (const record of records) {
    count++;
    if (record.seq !== expectedSeq) {
      return record.seq > expectedSeq
        ? fail(
            count,
            expectedSeq,
            `entry #${expectedSeq} is missing (the next one is #${record.seq}): deleted`,
          )
        : fail(count, record.seq, `entry #${record.seq} is out of order after #${expectedSeq - 1}`);
    }
    if (record.prevHash !== prevHash) {
      return fail(
        count,
        record.seq,
        `entry #${record.seq} does not follow the entry before it (its previous hash is ${short(record.prevHash)}, the chain has ${short(prevHash)}): an entry was removed, inserted or moved`,
      );
    }
    const hash = auditHash(record.seq, record.prevHash, record);
    if (hash !== record.hash) {
      return fail(
        count,
        record.seq,
        `entry #${record.seq} was changed after it was written (its content hashes to ${short(hash)}, it says ${short(record.hash)})`,
      );
    }
    if (anchor && anchor.seq === record.seq) {
      if (anchor.hash !== record.hash) {
        return fail(
          count,
          record.seq,
          `entry #${record.seq} is not the one anchored (${short(anchor.hash)}): the chain was rewritten`,
        );
      }
      anchorSeen = true;
    }
    prevHash = record.hash;
    expectedSeq++;
  }
  const last = expectedSeq - 1;
  if (head && (head.seq !== last || head.hash !== (last === 0 ? head.hash : prevHash))) {
    return head.seq > last
      ? fail(
          count,
          last + 1,
          `entries #${last + 1} to #${head.seq} are missing: the end of the log was deleted`,
        )
      : fail(
          count,
          head.seq,
          `the log's recorded head (#${head.seq} ${short(head.hash)}) does not match its last entry (#${last})`,
        );
  }
  if (!head && last > 0) {
    return fail(count, last, 'the log has entries but no recorded head: it was tampered with');
  }
  if (anchor && !anchorSeen) {
    return fail(count, anchor.seq, `entry #${anchor.seq} (the anchor) is missing`);
  }
  return { ok: true, entries: count, ...(head ? { head } : {}) };
}

function fail(entries: number, seq: number, problem: string): AuditVerification {
  return { ok: false, entries, seq, problem };
}

function short(hash: string): string {
  return hash.slice(0, 12);
}
