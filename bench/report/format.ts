/** Numbers as the tables show them. */
export function ms(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '–';
  const abs = Math.abs(value);
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

export function mib(bytes: number | undefined): string {
  if (bytes === undefined || !Number.isFinite(bytes)) return '–';
  return `${(bytes / 2 ** 20).toFixed(0)} MiB`;
}

export function kib(bytes: number | undefined): string {
  if (bytes === undefined || !Number.isFinite(bytes)) return '–';
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

export function rate(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '–';
  return value >= 100 ? value.toFixed(0) : value.toFixed(1);
}

/** `value` against the best peer's, as "×0.42" (lower is better where `lowerIsBetter`). */
export function ratio(value: number | undefined, best: number | undefined): string {
  if (
    value === undefined ||
    best === undefined ||
    !Number.isFinite(value) ||
    !Number.isFinite(best) ||
    best <= 0
  ) {
    return '';
  }
  const r = value / best;
  return ` (×${r >= 10 ? r.toFixed(0) : r.toFixed(2)})`;
}

export function percent(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}
