// A small history-API router: the server answers every non-API path with index.html, so the
// browser's location is the single source of truth for which page is shown.
import {
  type Accessor,
  createContext,
  createSignal,
  type JSX,
  onCleanup,
  splitProps,
  useContext,
} from 'solid-js';

export type Route =
  | { name: 'home' }
  | { name: 'jobs' }
  | { name: 'workspace'; id: string }
  /** A share link: opens someone else's workspace, with or without an account. */
  | { name: 'share'; token: string }
  | { name: 'not-found' };

export function matchRoute(pathname: string): Route {
  if (pathname === '/' || pathname === '') return { name: 'home' };
  if (pathname === '/jobs' || pathname === '/jobs/') return { name: 'jobs' };
  const workspace = /^\/w\/([^/]+)\/?$/.exec(pathname);
  if (workspace?.[1]) return { name: 'workspace', id: decodeURIComponent(workspace[1]) };
  const share = /^\/s\/([^/]+)\/?$/.exec(pathname);
  if (share?.[1]) return { name: 'share', token: decodeURIComponent(share[1]) };
  return { name: 'not-found' };
}

// After an in-app navigation, move focus to the new page so keyboard and screen-reader users start
// there rather than on a control that no longer exists. (The terminal takes focus itself once connected.)
function focusMain() {
  window.requestAnimationFrame(() => {
    const main = document.getElementById('main');
    if (!main || main.contains(document.activeElement)) return;
    main.focus({ preventScroll: true });
  });
}

export interface Router {
  route: Accessor<Route>;
  navigate: (path: string, options?: { replace?: boolean }) => void;
}

export function createRouter(): Router {
  const [pathname, setPathname] = createSignal(window.location.pathname);
  const onPopState = () => setPathname(window.location.pathname);
  window.addEventListener('popstate', onPopState);
  onCleanup(() => window.removeEventListener('popstate', onPopState));

  const route = () => matchRoute(pathname());
  const navigate = (path: string, options: { replace?: boolean } = {}) => {
    if (options.replace) window.history.replaceState(null, '', path);
    else window.history.pushState(null, '', path);
    setPathname(window.location.pathname);
    window.scrollTo(0, 0);
    focusMain();
  };
  return { route, navigate };
}

const RouterContext = createContext<Router>();

export function RouterProvider(props: { router: Router; children: JSX.Element }) {
  return <RouterContext.Provider value={props.router}>{props.children}</RouterContext.Provider>;
}

export function useRouter(): Router {
  const router = useContext(RouterContext);
  if (!router) throw new Error('useRouter must be used inside <RouterProvider>');
  return router;
}

/** An ordinary link that navigates in-app, while modified clicks (new tab, etc.) keep working. */
export function Link(props: JSX.AnchorHTMLAttributes<HTMLAnchorElement> & { href: string }) {
  const router = useRouter();
  const [local, rest] = splitProps(props, ['href', 'onClick']);
  const onClick = (event: MouseEvent & { currentTarget: HTMLAnchorElement; target: Element }) => {
    if (typeof local.onClick === 'function') local.onClick(event);
    if (event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    router.navigate(local.href);
  };
  return <a href={local.href} onClick={onClick} {...rest} />;
}
