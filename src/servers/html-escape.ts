/** Text safe inside a double-quoted HTML attribute (the pages put their base URL in one). */
export function escapeAttribute(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;')
}
