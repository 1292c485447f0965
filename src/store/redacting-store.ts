import type { ApprovalAnswer, ApprovalRequest } from '../core/approval.ts';
import type { RunEvent } from '../core/events.ts';
import type { JsonValue } from '../core/messages.ts';
import type { Redactor } from '../core/redact.ts';
import type { LeaseFence, Store } from './store.ts';

/**
 * A view of `store` whose appends (and requests for approval, which show a call's arguments)
 * pass through `redact` first: for one run among many sharing a store (a server), each with
 * its own secrets. Reads are the store's own.
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
        return (events: readonly RunEvent[], fence?: LeaseFence) =>
          target.append(events.map(clean), fence);
      }
      if (property === 'requestApproval') {
        return (request: ApprovalRequest) =>
          target.requestApproval({
            ...request,
            input: JSON.parse(redact(JSON.stringify(request.input))) as JsonValue,
            reason: redact(request.reason),
          });
      }
      if (property === 'answerApproval') {
        return (id: string, answer: ApprovalAnswer) =>
          target.answerApproval(id, {
            ...answer,
            ...(answer.reason ? { reason: redact(answer.reason) } : {}),
          });
      }
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
