/**
 * Warnings a request collects on its way (fieldValidation=Warn, deprecations), sent back with
 * its answer as kube-apiserver sends them: one `Warning: 299 - "<text>"` header each, in the
 * order they were added, each text once. Like kube's recorder, the texts together are kept
 * under 4096 characters: once past that, every text is cut to 256 characters and the ones that
 * still do not fit are dropped.
 */

/** Characters of warning text a response carries before the texts are shortened. */
const TOTAL_RUNES = 4 * 1024;
/** What each text is cut to once the total is exceeded. */
const ITEM_RUNES = 256;

/** Where a request's warnings go; the pipeline and the edge add to it, the response writer reads it. */
export class WarningRecorder {
  private readonly seen = new Set<string>();
  private readonly texts: string[] = [];

  /**
   * Adds a warning. An empty text, one already added, and one with control characters (which
   * cannot be a header value) are ignored.
   */
  add(text: string): void {
    if (text === '' || this.seen.has(text) || /\p{Cc}/u.test(text)) return;
    this.seen.add(text);
    this.texts.push(text);
  }

  /** The texts to send, shortened and limited as kube's recorder does. */
  get warnings(): string[] {
    const length = (s: string): number => [...s].length;
    let total = 0;
    for (const t of this.texts) total += length(t);
    if (total <= TOTAL_RUNES) return [...this.texts];
    const out: string[] = [];
    total = 0;
    for (const t of this.texts) {
      if (total >= TOTAL_RUNES) break;
      const runes = [...t];
      const cut = runes.length > ITEM_RUNES ? runes.slice(0, ITEM_RUNES).join('') : t;
      total += Math.min(runes.length, ITEM_RUNES);
      out.push(cut);
    }
    return out;
  }

  /**
   * The `Warning` header values (RFC 7234 `299 - "<text>"`, `"` and `\` escaped). Node writes
   * header strings as Latin-1, so each text's UTF-8 bytes are given one character each, so that
   * the header carries the UTF-8 bytes kube sends.
   */
  headerValues(): string[] {
    return this.warnings.map((text) => `299 - "${Buffer.from(text.replace(/["\\]/g, '\\$&'), 'utf8').toString('latin1')}"`);
  }
}
