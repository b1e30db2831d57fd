/**
 * GBK and GB18030 encoders as the WHATWG Encoding Standard defines them. No
 * table ships with tcpkit: on first use each table is built by decoding every
 * code with the platform's own `TextDecoder("gb18030")`, so encoding is the
 * exact inverse of the runtime's decoding.
 *
 * - Two-byte codes (lead 0x81-0xFE, trail 0x40-0xFE except 0x7F): 23,940
 *   codes decoded in one call (one call per code if some code does not decode
 *   to exactly one character); where two codes decode to the same character
 *   (0xA1A1 and 0xA3A0 both give U+3000) the first one wins, as the standard's
 *   "index pointer" does. U+E5E5 stays unencodable, and the 18 private-use
 *   characters GB18030-2022 moved keep their old two-byte codes (the
 *   standard's encoder table).
 * - Four-byte codes of the BMP (pointers 0-39419): 39,420 codes decoded in one
 *   call, used for the BMP characters without a two-byte code. Every such
 *   pointer is valid, so a U+FFFD decoded there is the real U+FFFD.
 * - Four-byte codes beyond the BMP are arithmetic: pointer 189000 + (code
 *   point - 0x10000).
 *
 * @module
 */

const TWO_BYTE_CODES = 126 * 190;
const FOUR_BYTE_BMP_CODES = 39420;
// GB18030-2022 gave these private-use characters' codes to standard characters.
const MOVED_PUA: [number, number][] = [
  [0xe78d, 0xa6d9],
  [0xe78e, 0xa6da],
  [0xe78f, 0xa6db],
  [0xe790, 0xa6dc],
  [0xe791, 0xa6dd],
  [0xe792, 0xa6de],
  [0xe793, 0xa6df],
  [0xe794, 0xa6ec],
  [0xe795, 0xa6ed],
  [0xe796, 0xa6f3],
  [0xe81e, 0xfe59],
  [0xe826, 0xfe61],
  [0xe82b, 0xfe66],
  [0xe82c, 0xfe67],
  [0xe832, 0xfe6d],
  [0xe843, 0xfe7e],
  [0xe854, 0xfe90],
  [0xe864, 0xfea0],
];

let twoByte: Uint16Array | undefined; // BMP code point -> lead << 8 | trail, 0 if none
let fourByte: Uint16Array | undefined; // BMP code point -> four-byte pointer + 1, 0 if none

/** Decodes codes of `width` bytes each; returns the text of each code by its index. */
function decodeCodes(codes: Uint8Array, width: number): (index: number) => string {
  const text = new TextDecoder("gb18030").decode(codes);
  if (text.length === codes.length / width) return (index) => text[index];
  // Some code did not decode to one character: decode them one by one.
  const decoder = new TextDecoder("gb18030");
  return (index) => decoder.decode(codes.subarray(index * width, index * width + width));
}

function buildTwoByte(): Uint16Array {
  const codes = new Uint8Array(TWO_BYTE_CODES * 2);
  for (let pointer = 0; pointer < TWO_BYTE_CODES; pointer++) {
    const trail = pointer % 190;
    codes[pointer * 2] = 0x81 + Math.floor(pointer / 190);
    codes[pointer * 2 + 1] = trail + (trail < 0x3f ? 0x40 : 0x41);
  }
  const table = new Uint16Array(0x10000);
  const charOf = decodeCodes(codes, 2);
  for (let pointer = 0; pointer < TWO_BYTE_CODES; pointer++) {
    const char = charOf(pointer);
    const cp = char.charCodeAt(0);
    if (char.length !== 1 || cp === 0xfffd || table[cp] !== 0) continue;
    table[cp] = (codes[pointer * 2] << 8) | codes[pointer * 2 + 1];
  }
  for (const [cp, code] of MOVED_PUA) if (table[cp] === 0) table[cp] = code;
  table[0xe5e5] = 0;
  return table;
}

function buildFourByte(two: Uint16Array): Uint16Array {
  const codes = new Uint8Array(FOUR_BYTE_BMP_CODES * 4);
  for (let pointer = 0; pointer < FOUR_BYTE_BMP_CODES; pointer++) {
    writeFourByte(codes, pointer * 4, pointer);
  }
  const table = new Uint16Array(0x10000);
  const charOf = decodeCodes(codes, 4);
  for (let pointer = 0; pointer < FOUR_BYTE_BMP_CODES; pointer++) {
    const char = charOf(pointer);
    const cp = char.charCodeAt(0);
    if (char.length !== 1 || two[cp] !== 0 || table[cp] !== 0 || cp === 0xe5e5) continue;
    table[cp] = pointer + 1;
  }
  return table;
}

function writeFourByte(out: Uint8Array, at: number, pointer: number): void {
  out[at] = 0x81 + Math.floor(pointer / 12600);
  out[at + 1] = 0x30 + Math.floor(pointer / 1260) % 10;
  out[at + 2] = 0x81 + Math.floor(pointer / 10) % 126;
  out[at + 3] = 0x30 + pointer % 10;
}

/**
 * Encodes text in GBK or GB18030. Lone surrogates count as U+FFFD.
 *
 * @param text The text.
 * @param gbk `true` for GBK (two-byte codes only, U+20AC as 0x80), `false` for GB18030.
 * @param replace Whether an unencodable character becomes `?` instead of an error.
 * @returns The bytes.
 * @throws {RangeError} When a character has no code and `replace` is false.
 */
export function encodeGb(text: string, gbk: boolean, replace: boolean): Uint8Array {
  const two = twoByte ??= buildTwoByte();
  const four = gbk ? undefined : fourByte ??= buildFourByte(two);
  const out = new Uint8Array(text.length * (gbk ? 2 : 4));
  let k = 0;
  for (let i = 0; i < text.length; i++) {
    let cp = text.codePointAt(i)!;
    if (cp < 0x80) {
      out[k++] = cp;
      continue;
    }
    if (cp > 0xffff) i++;
    else if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd;
    const code = cp <= 0xffff ? two[cp] : 0;
    if (gbk && cp === 0x20ac) out[k++] = 0x80;
    else if (code !== 0) {
      out[k++] = code >> 8;
      out[k++] = code & 0xff;
    } else if (four && (cp > 0xffff || four[cp] !== 0)) {
      writeFourByte(out, k, cp > 0xffff ? 189000 + cp - 0x10000 : four[cp] - 1);
      k += 4;
    } else if (replace) out[k++] = 0x3f;
    else {
      const hex = cp.toString(16).toUpperCase().padStart(4, "0");
      const name = gbk ? "gbk" : "gb18030";
      throw new RangeError(
        `Cannot encode text: "${String.fromCodePoint(cp)}" (U+${hex}) has no ${name} code`,
      );
    }
  }
  return out.slice(0, k);
}
