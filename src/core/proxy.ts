// Which proxy an outgoing request goes through, from a command's environment (never process.env here: the caller
// hands the environment in). The request itself goes through undici's EnvHttpProxyAgent
// (src/adapters/http-client.ts); this decides the loopback rule and names the proxy in error messages.

/** The proxy variables of an environment; undefined when none is set (every request goes direct). */
export interface ProxySettings {
  /** For http:// targets (`http_proxy`, else `HTTP_PROXY`). */
  http?: string;
  /** For https:// targets (`https_proxy`, else `HTTPS_PROXY`; undici falls back to the http proxy without one). */
  https?: string;
  /** `no_proxy`, else `NO_PROXY`: comma- or space-separated hosts, `host:port`, `.suffix`, or `*`. */
  noProxy: string;
}

type Env = Readonly<Record<string, string | undefined>>;

const pick = (env: Env, name: string): string | undefined => {
  // Lowercase first, as curl and undici do; an empty value counts as unset.
  const v = env[name.toLowerCase()] ?? env[name.toUpperCase()];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
};

/** The proxy settings of `env`, or undefined when no proxy is set or NO_PROXY is `*`. */
export function proxySettings(env: Env | undefined): ProxySettings | undefined {
  if (env === undefined) return undefined;
  const http = pick(env, 'http_proxy');
  const https = pick(env, 'https_proxy');
  const noProxy = pick(env, 'no_proxy') ?? '';
  if ((http === undefined && https === undefined) || noProxy === '*') return undefined;
  return { ...(http !== undefined ? { http } : {}), ...(https !== undefined ? { https } : {}), noProxy };
}

/**
 * A loopback target always goes direct, proxy or not, as if NO_PROXY always held localhost, *.localhost,
 * 127.0.0.0/8 and ::1: a proxy (a corporate one, somewhere else) cannot reach this machine's localhost, so
 * `listen --forward-to 3000` or `trigger` to the local listener would otherwise fail behind every proxy.
 */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)) return true;
  return h === '::1' || h === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(h) || /^::ffff:7f[0-9a-f]{2}:/.test(h);
}

/** Whether NO_PROXY lets (hostname, port) go direct, with the matching rules of undici's EnvHttpProxyAgent. */
export function bypassesProxy(noProxy: string, hostname: string, port: number): boolean {
  const host = hostname.toLowerCase();
  for (const entry of noProxy.split(/[,\s]/)) {
    if (entry === '') continue;
    if (entry === '*') return true;
    const m = /^(.+):(\d+)$/.exec(entry);
    const name = (m ? (m[1] as string) : entry).replace(/^\*?\./, '').toLowerCase();
    if (m && Number(m[2]) !== port) continue;
    if (host === name || host.endsWith(`.${name}`)) return true;
  }
  return false;
}

/** The proxy a request to `url` goes through under `settings`, or undefined when it goes direct. */
export function proxyFor(settings: ProxySettings | undefined, url: URL): string | undefined {
  if (settings === undefined || isLoopbackHost(url.hostname)) return undefined;
  const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
  // undici compares the host with its IPv6 brackets kept.
  const host = url.host.replace(/:\d*$/, '');
  if (bypassesProxy(settings.noProxy, host, port)) return undefined;
  return url.protocol === 'https:' ? (settings.https ?? settings.http) : settings.http;
}

/** A proxy URL for messages: its credentials hidden. */
export function shownProxy(proxy: string): string {
  try {
    const u = new URL(proxy);
    if (u.password !== '') u.password = '***';
    return u.href.replace(/\/$/, '');
  } catch {
    return proxy;
  }
}
