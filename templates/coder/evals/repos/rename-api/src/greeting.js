import { formatName } from './names.js';

export function greeting(user) {
  return `Hello, ${formatName(user)}!`;
}
