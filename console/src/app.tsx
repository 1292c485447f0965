import { useEffect, useState } from 'react';
import { api, setCsrfToken } from './api/client';
import { ApprovalsPage } from './pages/approvals';
import { AuditPage } from './pages/audit';
import { EvalsPage } from './pages/evals';
import { MemoryPage } from './pages/memory';
import { PoliciesPage } from './pages/policies';
import { RegistryPage } from './pages/registry';
import { RunPage } from './pages/run';
import { RunsPage } from './pages/runs';
import { SignIn } from './pages/sign-in';
import { TeamsPage } from './pages/teams';
import { href, navigate, useRoute } from './router';
import { type Session, SessionContext } from './session';
import { applyTheme, initialTheme, type Theme } from './theme';
import { useKeys } from './ui/hooks';

const sections = [
  { path: 'runs', label: 'Runs', key: 'r', scope: 'runs' },
  { path: 'approvals', label: 'Approvals', key: 'a', scope: 'approvals' },
  { path: 'teams', label: 'Teams', key: 't', scope: 'teams' },
  { path: 'policies', label: 'Policies', key: 'p', scope: 'policies' },
  { path: 'registry', label: 'Registry', key: 'g', scope: 'registry' },
  { path: 'audit', label: 'Audit', key: 'u', scope: 'audit' },
  { path: 'memory', label: 'Memory', key: 'm', scope: 'memory' },
  { path: 'evals', label: 'Evaluations', key: 'e', scope: 'evals' },
] as const;

export function App() {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [theme, setTheme] = useState<Theme>(initialTheme);
  useEffect(() => applyTheme(theme), [theme]);
  useEffect(() => {
    api.GET('/session').then(({ data }) => {
      setCsrfToken(data?.csrfToken);
      setSession(data ?? null);
    });
  }, []);
  const signedIn = (next: Session) => {
    setCsrfToken(next.csrfToken);
    setSession(next);
  };
  const signOut = async () => {
    await api.DELETE('/session');
    setCsrfToken(undefined);
    setSession(null);
  };
  const toggleTheme = () => setTheme((t) => (t === 'dark' ? 'light' : 'dark'));
  if (session === undefined) return <div className="boot" aria-busy="true" />;
  if (session === null) return <SignIn onSignedIn={signedIn} theme={theme} onTheme={toggleTheme} />;
  return (
    <SessionContext.Provider value={session}>
      <Shell session={session} theme={theme} onTheme={toggleTheme} onSignOut={signOut} />
    </SessionContext.Provider>
  );
}

function Shell(props: {
  session: Session;
  theme: Theme;
  onTheme: () => void;
  onSignOut: () => void;
}) {
  const route = useRoute();
  const allowed = sections.filter((s) => props.session.scopes.includes(s.scope));
  const [section = allowed[0]?.path ?? 'runs', ...rest] = route.parts;
  const [help, setHelp] = useState(false);
  useKeys({
    ...Object.fromEntries(
      sections.map((s) => [
        s.key,
        (e: KeyboardEvent) => {
          e.preventDefault();
          navigate(href(s.path));
        },
      ]),
    ),
    '?': () => setHelp((h) => !h),
    Escape: () => setHelp(false),
  });
  return (
    <div className="shell">
      <nav className="nav" aria-label="Sections">
        <a className="brand" href={href('runs')}>
          agentd
        </a>
        {sections.map((s) => {
          const ok = props.session.scopes.includes(s.scope);
          return ok ? (
            <a
              key={s.path}
              href={href(s.path)}
              aria-current={section === s.path ? 'page' : undefined}
              title={`${s.label} (${s.key})`}
            >
              {s.label}
            </a>
          ) : (
            <span key={s.path} className="nav-off" title={`this key lacks the ${s.scope} scope`}>
              {s.label}
            </span>
          );
        })}
        <div className="nav-foot">
          <div className="who" title={props.session.scopes.join(', ')}>
            {props.session.name}
          </div>
          <button type="button" onClick={props.onTheme} aria-label="Switch theme">
            {props.theme === 'dark' ? 'Light' : 'Dark'} theme
          </button>
          <button type="button" onClick={props.onSignOut}>
            Sign out
          </button>
          <button type="button" className="linkish" onClick={() => setHelp(true)}>
            Keys: ?
          </button>
        </div>
      </nav>
      <main className="main">
        {help && <KeyHelp onClose={() => setHelp(false)} />}
        <Section section={section} rest={rest} query={route.query} />
      </main>
    </div>
  );
}

function Section({
  section,
  rest,
  query,
}: {
  section: string;
  rest: string[];
  query: URLSearchParams;
}) {
  switch (section) {
    case 'runs':
      return rest[0] ? (
        <RunPage
          id={rest[0]}
          focusSeq={rest[1] === 'events' && rest[2] ? Number(rest[2]) : undefined}
        />
      ) : (
        <RunsPage query={query} />
      );
    case 'approvals':
      return <ApprovalsPage focus={rest[0]} />;
    case 'teams':
      return <TeamsPage id={rest[0]} />;
    case 'policies':
      return <PoliciesPage />;
    case 'registry':
      return <RegistryPage />;
    case 'audit':
      return <AuditPage query={query} />;
    case 'memory':
      return <MemoryPage id={rest[0]} query={query} />;
    case 'evals':
      return <EvalsPage rest={rest} query={query} />;
    default:
      return <p>No page {section}.</p>;
  }
}

function KeyHelp({ onClose }: { onClose: () => void }) {
  return (
    <div className="keyhelp" role="dialog" aria-label="Keyboard shortcuts">
      <h2>Keys</h2>
      <ul>
        {sections.map((s) => (
          <li key={s.key}>
            <kbd>{s.key}</kbd> {s.label}
          </li>
        ))}
        <li>
          <kbd>j</kbd> / <kbd>k</kbd> next / previous row, <kbd>Enter</kbd> open it
        </li>
        <li>
          <kbd>/</kbd> search
        </li>
        <li>
          <kbd>?</kbd> this list, <kbd>Esc</kbd> close
        </li>
      </ul>
      <button type="button" onClick={onClose}>
        Close
      </button>
    </div>
  );
}
