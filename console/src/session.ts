import { createContext, useContext } from 'react';
import type { Schemas } from './api/client';

export type Session = Schemas['Session'];

export const SessionContext = createContext<Session | undefined>(undefined);

/** The signed-in caller: its name and scopes (the API enforces them; pages hide what it refuses). */
export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in page');
  return session;
}

export function useScope(scope: string): boolean {
  return useSession().scopes.includes(scope);
}
