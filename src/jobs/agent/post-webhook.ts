import { fetchWithin } from '../../fetch-within.ts';

/** How one POST to the webhook went: delivered, or why not and whether trying again may help. */
export type WebhookDelivery = { ok: true; status: number } | { ok: false; retry: boolean; detail: string };

/**
 * Where a webhook URL points, for logs and errors: scheme, host and port only. Its user part, path and
 * query are often the receiver's secret (a chat tool's token), so they are never shown.
 */
export function webhookTarget(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(an unparsable URL)';
  }
}

/**
 * POSTs `payload` as JSON to `url` once. A user part in the URL becomes Basic authentication (fetch
 * refuses credentials in a URL). A 2xx answer is delivered; 408, 425, 429, 5xx and network errors may pass
 * on a later try; any other answer will not. Never rejects; no word of it names more than the target.
 */
export async function postWebhook(
  url: string,
  payload: unknown,
  options: { timeoutMs?: number } = {},
): Promise<WebhookDelivery> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return { ok: false, retry: false, detail: 'the webhook URL does not parse' };
  }
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'outpost-watch',
  };
  if (target.username !== '' || target.password !== '') {
    const user = decodeURIComponent(target.username);
    const password = decodeURIComponent(target.password);
    headers.authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    target.username = '';
    target.password = '';
  }
  const where = target.origin;
  try {
    const response = await fetchWithin(
      target,
      { method: 'POST', headers, body: JSON.stringify(payload), redirect: 'manual' },
      options.timeoutMs ?? 10_000,
    );
    if (response.ok) return { ok: true, status: response.status };
    const retry = [408, 425, 429].includes(response.status) || response.status >= 500;
    return { ok: false, retry, detail: `webhook at ${where} answered ${response.status}` };
  } catch (error) {
    // fetch's own words ("fetch failed") say little; its cause says what (ECONNREFUSED, bad port...), a
    // timeout its name. Neither quotes the URL.
    const cause = (error as Error & { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (error as Error).name;
    return { ok: false, retry: true, detail: `webhook at ${where} did not answer: ${why}` };
  }
}
