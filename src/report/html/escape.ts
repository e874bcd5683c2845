// Everything user-controlled (run and configuration names, parameters, error text) goes through
// these before it reaches the page.

export function escapeHtml(value: unknown): string {
  return String(value).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

/**
 * JSON for a <script type="application/json"> block: `<`, `>` and `&` become \u escapes, so a
 * name containing `</script>` or `<!--` cannot end the block; U+2028/2029 for old parsers.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** Inline code we ship (Chart.js, the page script): a literal `</script` would end the element. */
export function scriptText(code: string): string {
  return code.replace(/<\/(script)/gi, '<\\/$1');
}
