import { StrictMode, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { session } from './api';
import { live, useLive } from './live';
import { Incidents } from './pages/incidents';
import { Launch } from './pages/launch';
import { Overview } from './pages/overview';
import { Plans } from './pages/plans';
import { SignIn } from './pages/sign-in';
import { ValidatorDetail } from './pages/validator-detail';
import { Validators } from './pages/validators';
import { Link, navigate, useLocation } from './router';
import { UpgradeBanner } from './upgrade-banner';
import './styles.css';

function useSession(): { key: string | null; project: string | null } {
  const read = () => ({ key: session.key(), project: session.project() });
  const [s, setS] = useState(read);
  useEffect(() => {
    const on = () => setS(read());
    window.addEventListener('snowline:session', on);
    return () => window.removeEventListener('snowline:session', on);
  }, []);
  return s;
}

const NAV = [
  { to: '/', label: 'Overview' },
  { to: '/validators', label: 'Validators' },
  { to: '/launch', label: 'Launch' },
  { to: '/plans', label: 'Plans' },
  { to: '/incidents', label: 'Incidents' },
];

function LiveIndicator() {
  const feed = useLive();
  const text = {
    connecting: 'Connecting…',
    live: 'Live',
    reconnecting: 'Reconnecting…',
    offline: 'Offline',
  }[feed.status];
  return (
    <span className={`live live-${feed.status}`} role="status" aria-label={`Event stream: ${text}`}>
      <span className="dot" aria-hidden="true" />
      {text}
    </span>
  );
}

function Page({ path }: { path: string }) {
  const detail = /^\/validators\/([0-9a-f-]{36})$/i.exec(path);
  if (detail?.[1]) return <ValidatorDetail id={detail[1]} />;
  switch (path) {
    case '/':
      return <Overview />;
    case '/validators':
      return <Validators />;
    case '/launch':
      return <Launch />;
    case '/plans':
      return <Plans />;
    case '/incidents':
      return <Incidents />;
    default:
      return (
        <section>
          <h1 tabIndex={-1}>Not found</h1>
          <p>
            There is no page at <code>{path}</code>. <Link to="/">Go to the overview</Link>.
          </p>
        </section>
      );
  }
}

function App() {
  const { key, project } = useSession();
  const { path } = useLocation();

  useEffect(() => {
    if (key) live.start(key);
    else live.stop();
    return () => live.stop();
  }, [key]);

  if (!key) {
    if (path !== '/sign-in') navigate(`/sign-in`, true);
    return <SignIn />;
  }
  if (path === '/sign-in') {
    navigate('/', true);
    return null;
  }
  const current = (to: string) =>
    to === '/' ? path === '/' : path === to || path.startsWith(`${to}/`);
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <div className="brand">
          <span className="logo" aria-hidden="true">
            ❄
          </span>
          <span>Snowline</span>
          <span className="project" title="Project">
            {project ?? 'unknown project'}
          </span>
        </div>
        <nav aria-label="Main">
          <ul>
            {NAV.map((n) => (
              <li key={n.to}>
                <Link to={n.to} aria-current={current(n.to) ? 'page' : undefined}>
                  {n.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div className="session">
          <LiveIndicator />
          <button type="button" className="link-button" onClick={() => session.signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main">
        <UpgradeBanner />
        <Page path={path} />
      </main>
    </>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
