/**
 * Showing a peer's text on the operator's terminal without letting it
 * drive the terminal: control characters become visible escapes.
 *
 * @module
 */

// C0 controls but \t and \n, a \r not followed by \n, DEL, C1 controls (0x80-0x9f:
// 0x9b is a one-byte CSI), and the bidirectional overrides that reorder what is shown.
// deno-lint-ignore no-control-regex
const CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]|\r(?!\n)/g;

/**
 * Escapes the control characters of text as Python's `repr` would (`\x1b`,
 * `\r`, `\u202e`), keeping `\n`, `\t`, `\r\n` and every printable character
 * (accented, CJK, emoji) as they are. Backslashes are kept as sent (as
 * `cat -v` keeps `^`), so text written as an escape reads like one.
 *
 * @param text The text a peer sent, decoded.
 * @returns Text that is safe to write to a terminal.
 *
 * @example A screen-clearing, window-retitling message
 * ```ts
 * import assert from "node:assert/strict";
 * import { escapeControls } from "./_escape.ts";
 *
 * assert.equal(escapeControls("\x1b[2J\x1b]0;pwned\x07\n"), "\\x1b[2J\\x1b]0;pwned\\x07\n");
 * assert.equal(escapeControls("你好,\tworld\r\n"), "你好,\tworld\r\n");
 * ```
 */
export function escapeControls(text: string): string {
  return text.replace(CONTROL, (c) => {
    if (c === "\r") return "\\r";
    const code = c.charCodeAt(0);
    return code < 0x100
      ? `\\x${code.toString(16).padStart(2, "0")}`
      : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}
