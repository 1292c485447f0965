import { type FormEvent, useState } from 'react';
import { api, problemText } from '../api/client';
import type { Session } from '../session';
import type { Theme } from '../theme';
import { useFocusOnShow } from '../ui/hooks';

export function SignIn(props: {
  onSignedIn: (session: Session) => void;
  theme: Theme;
  onTheme: () => void;
}) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const field = useFocusOnShow<HTMLInputElement>();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    const { data, error } = await api.POST('/session', { body: { key: key.trim() } });
    setBusy(false);
    if (data) props.onSignedIn(data);
    else setError(problemText(error));
  };
  return (
    <main className="signin">
      <form onSubmit={submit} aria-label="Sign in">
        <h1>agentd</h1>
        <p>Sign in with an API key. Make one on this machine with:</p>
        <pre>
          agentd keys create --name me --scopes
          runs,approvals,teams,policies,registry,audit,memory,evals
        </pre>
        <label htmlFor="key">API key</label>
        <input
          id="key"
          name="key"
          type="password"
          autoComplete="off"
          value={key}
          onChange={(e) => setKey(e.target.value)}
          placeholder="agentd_…"
          ref={field}
        />
        {error && (
          <div className="failure" role="alert">
            {error}
          </div>
        )}
        <button type="submit" disabled={busy || !key.trim()}>
          Sign in
        </button>
        <p className="hint">
          The key is exchanged for a session cookie this page cannot read; the key itself is not
          kept.
        </p>
        <button type="button" className="linkish" onClick={props.onTheme}>
          {props.theme === 'dark' ? 'Light' : 'Dark'} theme
        </button>
      </form>
    </main>
  );
}
