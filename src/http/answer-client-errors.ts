import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Problem } from './problem.ts';

/** What each parser error of Node's HTTP server means for the client. */
const DETAILS: Record<string, [number, string]> = {
  HPE_INVALID_METHOD: [400, 'request line: not a known HTTP method'],
  HPE_INVALID_URL: [400, 'request line: not a valid request target'],
  HPE_INVALID_VERSION: [400, 'request line: not a valid HTTP version'],
  HPE_INVALID_CONSTANT: [400, 'request line: not valid HTTP'],
  HPE_INVALID_CONTENT_LENGTH: [400, 'Content-Length: not a valid length'],
  HPE_UNEXPECTED_CONTENT_LENGTH: [400, 'Content-Length: not allowed together with Transfer-Encoding'],
  HPE_INVALID_TRANSFER_ENCODING: [400, 'Transfer-Encoding: not valid, or sent with Content-Length'],
  HPE_INVALID_CHUNK_SIZE: [400, 'body: a chunk size is not valid'],
  HPE_INVALID_HEADER_TOKEN: [400, 'headers: a header name or value is not valid'],
  HPE_LF_EXPECTED: [400, 'headers: a line does not end with CRLF'],
  HPE_HEADER_OVERFLOW: [431, 'headers: larger than the server accepts'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'request: not received in time'],
};
const TITLES: Record<number, string> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
};

/**
 * Answers requests Node's parser refuses (a malformed request line, Content-Length or header) with
 * problem+json, as every other refusal of the API, instead of Node's bare `400 Bad Request`.
 */
export function answerClientErrors(server: Server): void {
  server.on('clientError', (error: Error & { code?: string }, socket: Duplex) => {
    // Nothing to answer on a connection the client already closed or reset.
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const [status, detail] = DETAILS[error.code ?? ''] ?? [400, 'request: not valid HTTP/1.1'];
    const title = TITLES[status] ?? 'Bad Request';
    const problem: Problem = {
      type: 'https://outpost.invalid/problems/bad_request',
      title,
      status,
      detail,
      code: 'bad_request',
    };
    const body = JSON.stringify(problem);
    socket.end(
      `HTTP/1.1 ${status} ${title}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
}
