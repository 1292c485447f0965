import type { RunEvent } from '../core/events.ts';
import type { Redactor } from '../core/redact.ts';
import type { Store } from './store.ts';

/**
 * A view of `store` whose appends pass through `redact` first: for one run among many sharing
 * a store (a server), each with its own secrets. Reads are the store's own.
 */
export function redactingStore(store: Store, redact: Redactor): Store {
  const clean = (event: RunEvent): RunEvent => {
    const text = JSON.stringify(event.data);
    const redacted = redact(text);
    return redacted === text ? event : ({ ...event, data: JSON.parse(redacted) } as RunEvent);
  };
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'append') {
        return (events: readonly RunEvent[]) => target.append(events.map(clean));
      }
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
