import { decodeCapture, CaptureError, type Capture } from '../core/capture.js';
import { InvalidInput } from '../core/errors.js';
import { openLines, tooLongMessage } from './lines.js';
import type { StdinSource } from './files.js';

// A capture log read line by line, as `verify` and `redact` read it: blank lines passed over, a torn last line (a
// `kill -9` mid-write) reported and skipped, anything else that is not a capture an error naming the line.

/** A file that is not a capture log (its first line is not a capture), or a malformed line later in one. */
export class NotACaptureLog extends InvalidInput {
  constructor(
    message: string,
    readonly firstLine: boolean,
  ) {
    super(message);
    this.name = 'NotACaptureLog';
  }
}

/** The captures of `file` (`-`: stdin) with their line numbers; throws NotACaptureLog; `onTorn` gets a torn last line. */
export async function* readCaptureLog(file: string, stdin: StdinSource, onTorn?: (line: number) => void): AsyncGenerator<{ capture: Capture; line: number }> {
  const lines = await openLines(file, stdin);
  const name = file === '-' ? 'stdin' : file;
  let first = true;
  for await (const line of lines) {
    if (line.tooLong === undefined && line.text.trim() === '') continue;
    let capture: Capture;
    try {
      if (line.tooLong !== undefined) throw new CaptureError(tooLongMessage(line.tooLong));
      capture = decodeCapture(line.text);
    } catch (e) {
      if (!(e instanceof CaptureError)) throw e;
      if (first) throw new NotACaptureLog(`${name} is not a capture log (line ${line.number}: ${e.message})`, true);
      if (!line.terminated) {
        onTorn?.(line.number);
        continue;
      }
      throw new NotACaptureLog(`${name}:${line.number}: malformed capture line: ${e.message}`, false);
    }
    first = false;
    yield { capture, line: line.number };
  }
}
