/** What {@link fetchWithin} read: the status and the whole body as text. */
export interface FetchedText {
  status: number;
  ok: boolean;
  text: string;
}

/**
 * `fetch` with the whole exchange — connecting, the headers and the body — bounded by `timeoutMs`.
 * `AbortSignal.timeout` on the request is not enough: when it fires while the body is being read,
 * `response.text()` can stay pending for ever (nodejs/node#56917), and an `await` on it with it; under
 * load that stopped a 200-VM deploy's proof for good. Rejects with a `TimeoutError` naming the time.
 */
export async function fetchWithin(
  url: string | URL,
  init: Omit<RequestInit, 'signal'>,
  timeoutMs: number,
): Promise<FetchedText> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new Error(`no complete answer within ${timeoutMs} ms`);
      error.name = 'TimeoutError';
      // Frees the connection; the race below answers whether or not the body's promise ever settles.
      controller.abort(error);
      reject(error);
    }, timeoutMs);
  });
  const exchange = (async (): Promise<FetchedText> => {
    const response = await fetch(url, { ...init, signal: controller.signal });
    return { status: response.status, ok: response.ok, text: await response.text() };
  })();
  try {
    return await Promise.race([exchange, expired]);
  } finally {
    clearTimeout(timer);
  }
}
