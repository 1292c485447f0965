import type { RunEvent } from '../../src/core/events.ts';
import type { Store } from '../../src/store/store.ts';

/**
 * A store that dies after a given number of appends, as if the process were killed there:
 * that append and every later one fail, and nothing of them reaches the real store. All
 * other calls go to the real store.
 */
export function dyingStore(store: Store, appendsBeforeDeath: number): Store {
  let appendsLeft = appendsBeforeDeath;
  const append = (events: readonly RunEvent[]): Promise<void> => {
    if (appendsLeft <= 0) return Promise.reject(new Error('the process died'));
    appendsLeft--;
    return store.append(events);
  };
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'append') return append;
      if (property === 'close') return async () => {};
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
