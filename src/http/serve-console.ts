import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Request, RequestHandler, Response } from 'express';

/** Page paths of the console (see web/src/routes.ts); each answers index.html so a URL can be shared. */
const PAGE =
  /^\/(?:|sign-in|fleet|proxies|enroll|deploy|jobs|hosts\/[a-z][a-z0-9-]{0,62}|jobs\/[A-Za-z0-9_-]{1,100})\/?$/;

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
};

// Everything comes from this origin: no CDN, no inline script, no framing.
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

interface Asset {
  type: string;
  raw: Buffer;
  gzip?: Buffer;
  brotli?: Buffer;
}

/**
 * Serves the console built by Vite into `dir` (`npm run build`): hashed files under /assets/ cached for a
 * year and sent precompressed (brotli or gzip, as the browser accepts), and index.html, never cached, for
 * every page path. The files are read once, at start. Without a build, pages say how to make one.
 */
export function serveConsole(dir: string): RequestHandler {
  const index = path.join(dir, 'index.html');
  const html = existsSync(index) ? readFileSync(index) : undefined;
  const assets = loadAssets(path.join(dir, 'assets'));
  return (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    if (req.path.startsWith('/assets/')) {
      const asset = assets.get(req.path.slice('/assets/'.length));
      if (!asset) return next();
      sendAsset(req, res, asset);
      return;
    }
    if (!PAGE.test(req.path)) return next();
    res.setHeader('Cache-Control', 'no-cache');
    res.setHeader('Content-Security-Policy', CSP);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    if (!html) {
      res.status(503).type('text/plain').send('The console is not built: run `npm run build` and restart.\n');
      return;
    }
    res.type('text/html; charset=utf-8').send(html);
  };
}

function sendAsset(req: Request, res: Response, asset: Asset): void {
  const accepted = req.get('accept-encoding') ?? '';
  res.setHeader('Content-Type', asset.type);
  res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Vary', 'Accept-Encoding');
  let body = asset.raw;
  if (asset.brotli && /\bbr\b/.test(accepted)) {
    res.setHeader('Content-Encoding', 'br');
    body = asset.brotli;
  } else if (asset.gzip && /\bgzip\b/.test(accepted)) {
    res.setHeader('Content-Encoding', 'gzip');
    body = asset.gzip;
  }
  res.setHeader('Content-Length', body.length);
  res.status(200).end(req.method === 'HEAD' ? undefined : body);
}

function loadAssets(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  if (!existsSync(dir)) return assets;
  for (const name of readdirSync(dir)) {
    const type = TYPES[path.extname(name)];
    if (!type) continue;
    const file = path.join(dir, name);
    const read = (suffix: string): Buffer | undefined =>
      existsSync(file + suffix) ? readFileSync(file + suffix) : undefined;
    const gzip = read('.gz');
    const brotli = read('.br');
    assets.set(name, {
      type,
      raw: readFileSync(file),
      ...(gzip ? { gzip } : {}),
      ...(brotli ? { brotli } : {}),
    });
  }
  return assets;
}
