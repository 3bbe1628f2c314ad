/**
 * Text for XML and HTML: the five special characters as entities, and the
 * control characters XML 1.0 cannot hold at all (a message quoting a stray
 * byte would otherwise make the whole JUnit file unreadable) as U+FFFD.
 */
export function esc(text: string): string {
  return text
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '\ufffd')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}
