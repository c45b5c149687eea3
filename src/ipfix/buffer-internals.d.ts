// Node's Buffer has fast, undocumented-but-stable UTF-8 helpers (used by Node's own code) that skip
// the encoding-name dispatch of toString()/write(). The codec's hot paths use them.
export {};

declare global {
  interface Buffer {
    utf8Slice(start: number, end: number): string;
    utf8Write(text: string, offset: number, maxLength?: number): number;
  }
}
