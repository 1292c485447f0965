/** "Ada Lovelace" from a user record. */
export function formatName(user) {
  return `${user.first} ${user.last}`;
}
