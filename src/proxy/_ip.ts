/**
 * IP address text: strict parsing (as `inet_pton`) and canonical formatting
 * (RFC 5952), shared by the PROXY header codec and the CIDR matcher.
 *
 * @module
 */

const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;
const DECIMAL = /^(?:0|[1-9][0-9]{0,4})$/;

/**
 * Parses a decimal integer without sign or leading zeros.
 *
 * @param text The digits.
 * @param max The largest value accepted.
 * @returns The number, or `null` when the text is not such an integer up to `max`.
 */
export function parseDecimal(text: string, max: number): number | null {
  if (!DECIMAL.test(text)) return null;
  const value = Number(text);
  return value <= max ? value : null;
}

/**
 * Parses dotted-quad IPv4 text: four decimal numbers from 0 to 255 without
 * leading zeros (a leading zero would read as octal elsewhere).
 *
 * @param text The address text.
 * @returns The 4 bytes, or `null` when the text is not such an address.
 */
export function parseIPv4(text: string): Uint8Array | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const value = parseDecimal(parts[i], 255);
    if (value === null) return null;
    bytes[i] = value;
  }
  return bytes;
}

/** Parses colon-separated groups, the last one possibly dotted IPv4, into 16-bit words. */
function parseGroups(text: string, dottedTail: boolean): number[] | null {
  if (text === "") return [];
  const parts = text.split(":");
  const words: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    if (dottedTail && i === parts.length - 1 && part.includes(".")) {
      const v4 = parseIPv4(part);
      if (v4 === null) return null;
      words.push(v4[0] << 8 | v4[1], v4[2] << 8 | v4[3]);
    } else if (HEX_GROUP.test(part)) {
      words.push(parseInt(part, 16));
    } else {
      return null;
    }
  }
  return words;
}

/**
 * Parses IPv6 text: eight groups of 1 to 4 hex digits, at most one `::`, and
 * optionally a dotted IPv4 address in place of the last two groups. Zone
 * identifiers (`%eth0`) are not accepted.
 *
 * @param text The address text.
 * @returns The 16 bytes, or `null` when the text is not such an address.
 */
export function parseIPv6(text: string): Uint8Array | null {
  const gap = text.indexOf("::");
  let words: number[] | null;
  if (gap === -1) {
    words = parseGroups(text, true);
    if (words === null || words.length !== 8) return null;
  } else {
    if (text.indexOf("::", gap + 1) !== -1) return null;
    const left = parseGroups(text.slice(0, gap), false);
    const right = parseGroups(text.slice(gap + 2), true);
    if (left === null || right === null || left.length + right.length > 7) return null;
    words = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  }
  const bytes = new Uint8Array(16);
  words.forEach((word, i) => {
    bytes[2 * i] = word >> 8;
    bytes[2 * i + 1] = word & 0xff;
  });
  return bytes;
}

/**
 * Parses IPv4 or IPv6 text, telling them apart by the presence of a colon.
 *
 * @param text The address text.
 * @returns 4 or 16 bytes, or `null` when the text is neither.
 */
export function parseIp(text: string): Uint8Array | null {
  return text.includes(":") ? parseIPv6(text) : parseIPv4(text);
}

/**
 * Formats 4 bytes as dotted-quad IPv4 text.
 *
 * @param bytes The address.
 * @returns The text, such as `127.0.0.1`.
 */
export function formatIPv4(bytes: Uint8Array): string {
  return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
}

/**
 * Formats 16 bytes as canonical IPv6 text (RFC 5952): lowercase hex without
 * leading zeros, the longest run of two or more zero groups (the first of
 * equals) as `::`, and IPv4-mapped addresses as `::ffff:192.0.2.1`.
 *
 * @param bytes The address.
 * @returns The text, such as `2001:db8::1`.
 */
export function formatIPv6(bytes: Uint8Array): string {
  if (
    bytes.subarray(0, 10).every((byte) => byte === 0) && bytes[10] === 0xff && bytes[11] === 0xff
  ) {
    return `::ffff:${formatIPv4(bytes.subarray(12))}`;
  }
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push(bytes[i] << 8 | bytes[i + 1]);
  let start = -1;
  let length = 1;
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > length) [start, length] = [i, j - i];
    i = Math.max(j, i + 1);
  }
  const hex = words.map((word) => word.toString(16));
  if (start === -1) return hex.join(":");
  return `${hex.slice(0, start).join(":")}::${hex.slice(start + length).join(":")}`;
}
