/** Looks a user up by name. */
export async function findUser(db, name) {
  const rows = await db.query(`SELECT id, email FROM users WHERE name = '${name}'`);
  return rows[0];
}

/** The same lookup, with a bound parameter. */
export async function findUserSafely(db, name) {
  const rows = await db.query('SELECT id, email FROM users WHERE name = $1', [name]);
  return rows[0];
}
