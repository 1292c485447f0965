import { defineTool, z } from 'agentd';

interface Unit {
  dimension: string;
  /** value in the dimension's base unit = (value + offset) * factor */
  factor: number;
  offset?: number;
  name: string;
}

const units: Record<string, Unit> = {
  // length, base metre
  mm: { dimension: 'length', factor: 0.001, name: 'millimetre' },
  cm: { dimension: 'length', factor: 0.01, name: 'centimetre' },
  m: { dimension: 'length', factor: 1, name: 'metre' },
  km: { dimension: 'length', factor: 1000, name: 'kilometre' },
  in: { dimension: 'length', factor: 0.0254, name: 'inch' },
  ft: { dimension: 'length', factor: 0.3048, name: 'foot' },
  yd: { dimension: 'length', factor: 0.9144, name: 'yard' },
  mi: { dimension: 'length', factor: 1609.344, name: 'mile' },
  nmi: { dimension: 'length', factor: 1852, name: 'nautical mile' },
  // mass, base kilogram
  mg: { dimension: 'mass', factor: 1e-6, name: 'milligram' },
  g: { dimension: 'mass', factor: 0.001, name: 'gram' },
  kg: { dimension: 'mass', factor: 1, name: 'kilogram' },
  t: { dimension: 'mass', factor: 1000, name: 'tonne' },
  oz: { dimension: 'mass', factor: 0.028349523125, name: 'ounce' },
  lb: { dimension: 'mass', factor: 0.45359237, name: 'pound' },
  // volume, base litre
  ml: { dimension: 'volume', factor: 0.001, name: 'millilitre' },
  l: { dimension: 'volume', factor: 1, name: 'litre' },
  gal: { dimension: 'volume', factor: 3.785411784, name: 'US gallon' },
  qt: { dimension: 'volume', factor: 0.946352946, name: 'US quart' },
  cup: { dimension: 'volume', factor: 0.2365882365, name: 'US cup' },
  floz: { dimension: 'volume', factor: 0.0295735295625, name: 'US fluid ounce' },
  // temperature, base kelvin
  K: { dimension: 'temperature', factor: 1, name: 'kelvin' },
  C: { dimension: 'temperature', factor: 1, offset: 273.15, name: 'degree Celsius' },
  F: { dimension: 'temperature', factor: 5 / 9, offset: 459.67, name: 'degree Fahrenheit' },
  // speed, base metre per second
  'm/s': { dimension: 'speed', factor: 1, name: 'metre per second' },
  'km/h': { dimension: 'speed', factor: 1 / 3.6, name: 'kilometre per hour' },
  mph: { dimension: 'speed', factor: 0.44704, name: 'mile per hour' },
  kn: { dimension: 'speed', factor: 1852 / 3600, name: 'knot' },
  // data, base byte
  B: { dimension: 'data', factor: 1, name: 'byte' },
  KB: { dimension: 'data', factor: 1e3, name: 'kilobyte' },
  MB: { dimension: 'data', factor: 1e6, name: 'megabyte' },
  GB: { dimension: 'data', factor: 1e9, name: 'gigabyte' },
  KiB: { dimension: 'data', factor: 1024, name: 'kibibyte' },
  MiB: { dimension: 'data', factor: 1024 ** 2, name: 'mebibyte' },
  GiB: { dimension: 'data', factor: 1024 ** 3, name: 'gibibyte' },
};

function unit(symbol: string): Unit {
  const found = units[symbol] ?? units[symbol.toLowerCase()];
  if (!found) throw new Error(`unknown unit "${symbol}"; call list_units for the ones I know`);
  return found;
}

/** Rounds away floating-point noise (0.30000000000000004) without hiding real digits. */
function tidy(n: number): number {
  return Number.parseFloat(n.toPrecision(12));
}

export const convert = defineTool({
  name: 'convert',
  description: 'Convert a quantity from one unit to another of the same dimension.',
  input: z.object({
    value: z.number().describe('the quantity to convert'),
    from: z.string().describe('unit symbol, e.g. km, mi, lb, F, GiB'),
    to: z.string().describe('unit symbol to convert to'),
  }),
  idempotent: true,
  execute({ value, from, to }) {
    const a = unit(from);
    const b = unit(to);
    if (a.dimension !== b.dimension) {
      throw new Error(`cannot convert ${a.dimension} (${from}) to ${b.dimension} (${to})`);
    }
    const base = (value + (a.offset ?? 0)) * a.factor;
    const result = tidy(base / b.factor - (b.offset ?? 0));
    return `${value} ${from} = ${result} ${to} (${a.name} to ${b.name})`;
  },
});

export const listUnits = defineTool({
  name: 'list_units',
  description: 'List the unit symbols the convert tool knows, by dimension.',
  input: z.object({}),
  idempotent: true,
  execute() {
    const byDimension = new Map<string, string[]>();
    for (const [symbol, u] of Object.entries(units)) {
      byDimension.set(u.dimension, [
        ...(byDimension.get(u.dimension) ?? []),
        `${symbol} (${u.name})`,
      ]);
    }
    return [...byDimension].map(([d, list]) => `${d}: ${list.join(', ')}`).join('\n');
  },
});
