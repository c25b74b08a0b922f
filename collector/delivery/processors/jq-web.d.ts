/** jq-web 0.6.2 (jq compiled to WebAssembly) ships no types; this is the part Riffle calls. */
declare module 'jq-web' {
  export interface Jq {
    /** Runs `filter` over a JS value; returns the single result (or an array of several). Throws on a jq error. */
    json(input: unknown, filter: string): unknown;
  }
  const jq: Promise<Jq>;
  export default jq;
}
