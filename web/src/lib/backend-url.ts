// Which NixSpace server the UI talks to: the one that served it, unless the hidden settings
// dialog stored another base URL in localStorage.
const key = 'nixspace.backendUrl';

export function loadBackendUrl(): string | undefined {
  try {
    return window.localStorage.getItem(key) ?? undefined;
  } catch {
    return undefined;
  }
}

/** Stores an override (an http(s) URL) or clears it with undefined; throws on anything else. */
export function saveBackendUrl(url: string | undefined): void {
  if (url === undefined || url.trim() === '') {
    window.localStorage.removeItem(key);
    return;
  }
  const parsed = new URL(url.trim());
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new Error('The backend URL must start with http:// or https://');
  }
  window.localStorage.setItem(key, parsed.origin);
}

/** The base every API path is resolved against. */
export function backendBase(): string {
  return loadBackendUrl() ?? window.location.origin;
}

export function apiUrl(path: string): string {
  return new URL(path, backendBase()).href;
}

/** Cross-origin requests to an overridden backend must still carry the session cookie. */
export function credentialsMode(): RequestCredentials {
  return loadBackendUrl() ? 'include' : 'same-origin';
}
