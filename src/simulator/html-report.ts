export function renderHtmlReport(_t: unknown): string { return ''; }
