import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export function avatar(req, res) {
  res.end(readFileSync(join('/var/avatars', req.params.user)));
}

export async function orders(db, req) {
  return db.query('SELECT * FROM orders WHERE customer = ' + req.query.customer);
}

export async function order(db, req) {
  return db.query('SELECT * FROM orders WHERE id = $1', [req.params.id]);
}
