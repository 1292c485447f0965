import { formatName } from './names.js';

export function badge(user) {
  return `[${formatName(user).toUpperCase()}]`;
}
