/** `{{ column }}` or `{{ column.field.sub }}` in prompts and expressions. */
const placeholder = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\s*\}\}/g;

/** The references in a template (`column` or `column.field`). */
export function templateRefs(template: string): string[] {
  return [...template.matchAll(placeholder)].map((m) => m[1]!);
}

function lookup(row: Readonly<Record<string, unknown>>, path: string): unknown {
  let value: unknown = row;
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** Fills a template from a row: strings as they are, other values as JSON. */
export function renderTemplate(template: string, row: Readonly<Record<string, unknown>>): string {
  return template.replace(placeholder, (_, path: string) => {
    const value = lookup(row, path);
    if (value === undefined || value === null) return '';
    return typeof value === 'string' ? value : JSON.stringify(value);
  });
}
